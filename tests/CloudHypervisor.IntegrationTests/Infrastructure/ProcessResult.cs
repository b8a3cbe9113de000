namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>How a process ended: exit code (-1 when killed on timeout) and what it printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"exit code {ExitCode}{(TimedOut ? " (killed after timeout)" : "")} after {Elapsed.TotalSeconds:F1} s\n" +
        $"--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}
