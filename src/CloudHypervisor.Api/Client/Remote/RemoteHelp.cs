using System.Text;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// ch-remote's help screens in clap 4's default layout (no wrap_help feature, so no wrapping):
/// about, usage, then Commands / Arguments / Options sections with help aligned two columns
/// after the longest entry of the section.
/// </summary>
public static class RemoteHelp
{
    private const string HelpFlag = "--help";
    private const string VersionFlag = "--version";

    /// <summary>"ch-remote [OPTIONS] &lt;COMMAND&gt;".</summary>
    public static string TopUsage => $"{RemoteCommands.BinaryName} [OPTIONS] <COMMAND>";

    /// <summary>"ch-remote resize [OPTIONS]", "ch-remote add-disk [disk_config]", "ch-remote help [COMMAND]...".</summary>
    public static string Usage(RemoteCommand command)
    {
        var usage = new StringBuilder(RemoteCommands.BinaryName).Append(' ').Append(command.Name);
        if (Array.Exists(command.Args, a => !a.IsPositional))
        {
            usage.Append(" [OPTIONS]");
        }

        if (command.Positional is { } positional)
        {
            usage.Append(' ').Append(positional.Display).Append(command == RemoteCommands.Help ? "..." : string.Empty);
        }

        return usage.ToString();
    }

    public static string Top()
    {
        var text = new StringBuilder();
        text.Append(RemoteCommands.About).Append("\n\nUsage: ").Append(TopUsage).Append("\n\nCommands:\n");
        var names = new List<string>();
        foreach (var command in RemoteCommands.All)
        {
            names.Add(command.Name);
        }

        names.Add(RemoteCommands.Help.Name);
        var longest = Longest(names);
        foreach (var command in RemoteCommands.All)
        {
            Line(text, "  " + command.Name, longest + 2, command.About);
        }

        Line(text, "  " + RemoteCommands.Help.Name, longest + 2, RemoteCommands.Help.About);
        text.Append("\nOptions:\n");
        longest = Longest([RemoteCommands.ApiSocket.Display, HelpFlag, VersionFlag]);
        Line(text, "      " + RemoteCommands.ApiSocket.Display, longest + 6, RemoteCommands.ApiSocket.Help);
        Line(text, "  -h, " + HelpFlag, longest + 6, "Print help");
        Line(text, "  -V, " + VersionFlag, longest + 6, "Print version");
        return text.ToString();
    }

    public static string For(RemoteCommand command)
    {
        var text = new StringBuilder();
        text.Append(command.About).Append("\n\nUsage: ").Append(Usage(command)).Append('\n');
        if (command.Positional is { } positional)
        {
            var shown = positional.Display + (command == RemoteCommands.Help ? "..." : string.Empty);
            var help = positional.Help;
            if (positional.DefaultValue is { } value)
            {
                help += (help.Length > 0 ? " " : string.Empty) + $"[default: {value}]";
            }

            text.Append("\nArguments:\n");
            Line(text, "  " + shown, shown.Length + 2, help.Replace("\n", "\n" + new string(' ', shown.Length + 4), StringComparison.Ordinal));
        }

        if (command == RemoteCommands.Help)
        {
            return text.ToString();
        }

        var options = new List<string>();
        foreach (var arg in command.Args)
        {
            if (!arg.IsPositional)
            {
                options.Add(arg.Display);
            }
        }

        var longest = Longest([.. options, HelpFlag]);
        text.Append("\nOptions:\n");
        foreach (var arg in command.Args)
        {
            if (!arg.IsPositional)
            {
                Line(text, "      " + arg.Display, longest + 6, arg.Help);
            }
        }

        Line(text, "  -h, " + HelpFlag, longest + 6, "Print help");
        return text.ToString();
    }

    private static void Line(StringBuilder text, string entry, int column, string help)
    {
        text.Append(entry).Append(' ', Math.Max(0, column - entry.Length + 2)).Append(help);
        while (text.Length > 0 && text[^1] == ' ')
        {
            text.Length--;
        }

        text.Append('\n');
    }

    private static int Longest(IEnumerable<string> items)
    {
        var longest = 2;
        foreach (var item in items)
        {
            longest = Math.Max(longest, item.Length);
        }

        return longest;
    }
}
