using System.Diagnostics;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Kernel;

/// <summary>
/// One boot of Debian's stock kernel (scripts/fetch-kernel.sh) under the published binary, shared by the
/// tests of <see cref="DebianKernelTests"/>: it takes a minute or two on a host that emulates ring 0, so
/// it runs once, on first use (never for skipped tests).
/// </summary>
public sealed class DebianKernelBoot
{
    public const string CommandLine = "console=ttyS0 earlyprintk=ttyS0 ch-cs.test=early-log";
    public const int Cpus = 2;
    public const ulong MemoryBytes = 512UL << 20;

    /// <summary>Upstream's prefix of the log line for a vCPU that cannot continue.</summary>
    public const string FatalLinePrefix = "VCPU generated error";

    /// <summary>Generous: about 95 s on the development host when idle; the VMM is killed after this.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(7);

    private readonly Lazy<Task<DebianKernelRun>> run = new(StartAsync);

    public Task<DebianKernelRun> RunAsync() => run.Value;

    private static async Task<DebianKernelRun> StartAsync()
    {
        TestEnvironment.EnsureKvm();
        var kernel = Path.Combine(RepoPaths.Kernel, "vmlinux");
        Assert.True(File.Exists(kernel), $"{kernel} is missing: run scripts/fetch-kernel.sh");

        await using var process = RunningProcess.Start(VmmBinary.Path,
        [
            "--kernel", kernel, "--cmdline", CommandLine, "--cpus", $"boot={Cpus}", "--memory", $"size={MemoryBytes >> 20}M",
            "--serial", "tty", "--console", "off",
        ]);
        process.CloseStandardInput();
        var clock = Stopwatch.StartNew();

        // Note when the fatal-exit line appears, to check the VMM then exits promptly instead of hanging.
        TimeSpan? fatalLineAt = null;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested && fatalLineAt is null)
            {
                if (process.StandardError.Contains(FatalLinePrefix, StringComparison.Ordinal))
                    fatalLineAt = clock.Elapsed;
                await Task.Delay(50);
            }
        });

        var result = await process.WaitForExitAsync(Timeout);
        var exitedAt = clock.Elapsed;
        await watching.CancelAsync();
        await watcher;
        // Printed after the last poll: it came within one polling interval of the exit.
        if (fatalLineAt is null && result.StandardError.Contains(FatalLinePrefix, StringComparison.Ordinal))
            fatalLineAt = exitedAt;
        return new DebianKernelRun(result, fatalLineAt, exitedAt);
    }
}

/// <summary>What the boot printed and how it ended.</summary>
public sealed record DebianKernelRun(ProcessResult Result, TimeSpan? FatalLineAt, TimeSpan ExitedAt)
{
    public IReadOnlyList<string> SerialLines => SerialText.Lines(Result.StandardOutput);

    /// <summary>Kernel log messages without their "[    1.234567] " timestamps.</summary>
    public IEnumerable<string> KernelMessages =>
        SerialLines.Select(l => l.StartsWith('[') && l.IndexOf("] ", StringComparison.Ordinal) is var end and > 0 ? l[(end + 2)..] : l);

    public override string ToString() => Result.ToString();
}
