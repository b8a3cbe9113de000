using System.Diagnostics;
using System.Text;

namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>
/// A started child process whose stdout and stderr are captured as they arrive.
/// Disposing kills it (with its process tree) if it is still running.
/// </summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningProcess(Process process) => _process = process;

    public string CommandLine { get; private init; } = "";

    public int Id => _process.Id;

    /// <summary>Wall-clock time just before the process was started.</summary>
    public DateTimeOffset StartedAt { get; private init; }

    public bool HasExited => _process.HasExited;

    public string StandardOutput { get { lock (_stdout) return _stdout.ToString(); } }

    public string StandardError { get { lock (_stderr) return _stderr.ToString(); } }

    public static RunningProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info };
        var running = new RunningProcess(process)
        {
            CommandLine = fileName + " " + string.Join(' ', info.ArgumentList.Select(Quote)),
            StartedAt = DateTimeOffset.UtcNow,
        };
        process.OutputDataReceived += (_, e) => running.Append(running._stdout, running._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => running.Append(running._stderr, running._stderrClosed, e.Data);
        if (!process.Start())
            throw new InvalidOperationException($"Could not start {fileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Writes one line to the process's standard input.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Signals end of input to the process.</summary>
    public void CloseStandardInput() => _process.StandardInput.Close();

    /// <summary>Waits for the exit; on timeout kills the process and reports TimedOut.</summary>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        var timedOut = false;
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                Kill();
                await _process.WaitForExitAsync();
            }
        }
        // Let the asynchronous readers drain what the process wrote last.
        await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(5)));
        return new ProcessResult(timedOut ? -1 : _process.ExitCode, StandardOutput, StandardError, timedOut, _clock.Elapsed);
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(StringBuilder buffer, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (buffer)
            buffer.Append(line).Append('\n');
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
