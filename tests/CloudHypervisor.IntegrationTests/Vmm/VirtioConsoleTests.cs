using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// The VMM's virtio-console (`__console`, 1af4:1043 at 00:01.0) on KVM, driven by the `virtio` guest's
/// polling driver: with `console` on its command line the guest writes "virtio-console: hello from hvc0"
/// to the transmitq, echoes one line from the receiveq on the serial port, or reports a receive timeout.
/// </summary>
public sealed class VirtioConsoleTests
{
    private const string Greeting = "virtio-console: hello from hvc0";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [KvmFact]
    public async Task FileConsoleReceivesTheGuestsLineWhileSerialCarriesItsReport()
    {
        var directory = Directory.CreateTempSubdirectory("ch-vcon-");
        try
        {
            var file = Path.Combine(directory.FullName, "console.out");
            var result = await VmmBinary.RunAsync(
                ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "console", "--memory", "size=128M",
                 "--serial", "tty", "--console", "file=" + file]);

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal(Greeting + "\n", await File.ReadAllTextAsync(file));
            var lines = SerialText.Lines(result.StandardOutput);
            Assert.Contains("virtio: devices=console,rng", lines);
            Assert.Contains(lines, l => l.StartsWith("virtio: 00:01.0 type=console ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("virtio: 00:02.0 type=rng ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("virtio: console features=0x100000000 cols=0 rows=0 max-ports=1 status=0xf", StringComparison.Ordinal));
            Assert.Contains("virtio: console sent ok", lines);
            Assert.Contains(lines, l => l.StartsWith("virtio: console receive timeout", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("not supported yet", StringComparison.Ordinal));
            Assert.DoesNotContain(Greeting, result.StandardOutput);
            Assert.Equal("virtio: done", lines.Last(l => l.StartsWith("virtio: ", StringComparison.Ordinal)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [KvmFact]
    public async Task TtyConsoleAndSerialBothWriteToStdout()
    {
        var result = await VmmBinary.RunAsync(
            ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "console", "--memory", "size=128M", "--serial", "tty"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(Greeting, result.StandardOutput);
        Assert.Contains("virtio: console sent ok", SerialText.Lines(result.StandardOutput));
        Assert.DoesNotContain("virtio-console", result.StandardError);
    }

    [KvmFact]
    public async Task NullConsoleIsPresentAndDiscardsOutput()
    {
        var result = await VmmBinary.RunAsync(
            ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "console", "--memory", "size=128M",
             "--serial", "tty", "--console", "null"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains("virtio: devices=console,rng", lines);
        Assert.Contains("virtio: console sent ok", lines);
        Assert.DoesNotContain(Greeting, result.StandardOutput);
    }

    [KvmFact]
    public async Task PtyConsoleCarriesTheGuestsLineOutAndTheReplyIn()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["-v", "--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "console", "--memory", "size=128M",
             "--serial", "tty", "--console", "pty"]);
        var ptyLine = new Regex(@"Console PTY: (/dev/pts/\d+)");
        await WaitForAsync(() => ptyLine.IsMatch(vmm.StandardError), "the \"Console PTY: <path>\" log line", vmm);
        var path = ptyLine.Match(vmm.StandardError).Groups[1].Value;

        await using var terminal = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.None);
        using var cancel = new CancellationTokenSource(Timeout);
        var line = await ConsoleClient.ReadLineAsync(terminal, cancel.Token);
        await terminal.WriteAsync(Encoding.ASCII.GetBytes("pong from host\n"), cancel.Token);
        await terminal.FlushAsync(cancel.Token);

        var result = await vmm.WaitForExitAsync(Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Greeting, line);
        Assert.Contains("virtio: console got pong from host", SerialText.Lines(result.StandardOutput));
    }

    /// <summary>As upstream: `--console socket=` parses but the VM cannot be created.</summary>
    [KvmFact]
    public async Task SocketConsoleIsRefusedAtVmCreationAsUpstreamDoes()
    {
        var directory = Directory.CreateTempSubdirectory("ch-vcon-");
        try
        {
            var socket = Path.Combine(directory.FullName, "console.sock");
            var result = await VmmBinary.RunAsync(
                ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "console", "--memory", "size=128M",
                 "--serial", "tty", "--console", "socket=" + socket]);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("No socket option support for console device", result.StandardError);
            Assert.DoesNotContain("virtio: guest kit", result.StandardOutput);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, RunningProcess vmm)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (vmm.HasExited || clock.Elapsed > Timeout)
            {
                Assert.Fail($"No {what} within {Timeout.TotalSeconds} s (exited: {vmm.HasExited})\n{vmm.CommandLine}\n" +
                    $"--- stdout ---\n{vmm.StandardOutput}\n--- stderr ---\n{vmm.StandardError}");
            }

            await Task.Delay(50);
        }
    }
}
