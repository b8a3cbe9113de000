using System.Text;
using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>clap 4's usage-error texts for ch-remote (stderr, exit code 2).</summary>
internal static class RemoteClapErrors
{
    private const string MoreInfo = "For more information, try '--help'.\n";

    public static CommandLineExit UnexpectedArgument(string argument, string usage, IReadOnlyList<string> tips) =>
        Exit($"error: unexpected argument '{argument}' found\n", tips, usage);

    public static CommandLineExit UnrecognizedSubcommand(string name, IReadOnlyList<string> similar, string? usage = null)
    {
        var tips = new List<string>();
        if (similar.Count == 1)
        {
            tips.Add($"a similar subcommand exists: '{similar[0]}'");
        }
        else if (similar.Count > 1)
        {
            tips.Add("some similar subcommands exist: " + string.Join(", ", similar.Select(s => $"'{s}'")));
        }

        return Exit($"error: unrecognized subcommand '{name}'\n", tips, usage ?? RemoteHelp.TopUsage);
    }

    public static CommandLineExit MissingSubcommand()
    {
        var names = RemoteCommands.All.Select(c => c.Name).Append(RemoteCommands.Help.Name);
        return Exit(
            $"error: '{RemoteCommands.BinaryName}' requires a subcommand but one was not provided\n  [subcommands: {string.Join(", ", names)}]\n",
            [],
            RemoteHelp.TopUsage);
    }

    public static CommandLineExit UsedMultipleTimes(string display, string usage) =>
        Exit($"error: the argument '{display}' cannot be used multiple times\n", [], usage);

    public static CommandLineExit ValueRequired(string display) =>
        new($"error: a value is required for '{display}' but none was supplied\n\n{MoreInfo}", 2, toStdout: false);

    public static CommandLineExit UnexpectedValue(string value, string display, string usage) =>
        Exit($"error: unexpected value '{value}' for '{display}' found; no more were expected\n", [], usage);

    public static CommandLineExit MissingRequired(RemoteCommand command, RemoteArg arg) =>
        Exit($"error: the following required arguments were not provided:\n  {arg.Display}\n", [], RemoteHelp.Usage(command));

    /// <summary>The message, a blank line and each "tip:" line, the usage, and the --help hint.</summary>
    private static CommandLineExit Exit(string message, IReadOnlyList<string> tips, string usage)
    {
        var text = new StringBuilder(message);
        if (tips.Count > 0)
        {
            text.Append('\n');
            foreach (var tip in tips)
            {
                text.Append("  tip: ").Append(tip).Append('\n');
            }
        }

        text.Append("\nUsage: ").Append(usage).Append("\n\n").Append(MoreInfo);
        return new CommandLineExit(text.ToString(), 2, toStdout: false);
    }
}
