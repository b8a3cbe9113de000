namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>
/// Ends the process before any VMM work, the way clap does: usage errors go to stderr with
/// exit code 2, help goes to stdout with exit code 0.
/// </summary>
public sealed class CommandLineExit : Exception
{
    public CommandLineExit(string text, int exitCode, bool toStdout)
        : base(text)
    {
        Text = text;
        ExitCode = exitCode;
        ToStdout = toStdout;
    }

    public string Text { get; }

    public int ExitCode { get; }

    public bool ToStdout { get; }
}
