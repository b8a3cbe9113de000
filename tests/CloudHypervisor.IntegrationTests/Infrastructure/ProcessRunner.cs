namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>Runs a process to completion with a timeout (killed when it expires).</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout,
        string? workingDirectory = null)
    {
        await using var process = RunningProcess.Start(fileName, arguments, workingDirectory);
        process.CloseStandardInput();
        return await process.WaitForExitAsync(timeout);
    }
}
