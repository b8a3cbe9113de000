using System.Diagnostics;

namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>A running QEMU. Disposing kills it and removes its temporary files.</summary>
public sealed class QemuInstance : IAsyncDisposable
{
    private readonly RunningProcess _process;
    private readonly string _directory;

    internal QemuInstance(RunningProcess process, string directory, string serialLogPath)
    {
        _process = process;
        _directory = directory;
        SerialLogPath = serialLogPath;
    }

    public string SerialLogPath { get; }

    public string CommandLine => _process.CommandLine;

    public bool HasExited => _process.HasExited;

    public string Serial
    {
        get
        {
            using var stream = new FileStream(SerialLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    public IReadOnlyList<string> SerialLines => SerialText.Lines(Serial);

    /// <summary>
    /// Waits until <paramref name="count"/> serial lines equal <paramref name="line"/>; throws
    /// TimeoutException (with the serial output) on timeout or if QEMU exits first.
    /// </summary>
    public async Task WaitForSerialLineAsync(string line, TimeSpan timeout, int count = 1)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (SerialLines.Count(l => l == line) >= count)
                return;
            if (_process.HasExited)
                throw new TimeoutException($"QEMU exited before printing \"{line}\" ({count}x)\n{Describe()}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"No \"{line}\" ({count}x) on serial within {timeout.TotalSeconds} s\n{Describe()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Sends a human-monitor command (needs <see cref="QemuOptions.MonitorOnStdio"/>).</summary>
    public Task MonitorAsync(string command) => _process.WriteLineAsync(command);

    public async Task<QemuResult> WaitForExitAsync(TimeSpan timeout)
    {
        var result = await _process.WaitForExitAsync(timeout);
        return new QemuResult(result, Serial, CommandLine);
    }

    public string Describe() =>
        $"{CommandLine}\n--- serial ---\n{Serial}\n--- qemu stderr ---\n{_process.StandardError}";

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
