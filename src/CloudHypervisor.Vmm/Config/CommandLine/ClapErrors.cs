using System.Text;

namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>clap 4's error texts (rich formatter, "error-context" and "suggestions" features).</summary>
public static class ClapErrors
{
    private const string MoreInfo = "For more information, try '--help'.\n";

    public static string Usage => $"Usage: {CliDefinition.BinaryName} [OPTIONS]";

    public static CommandLineExit UnexpectedArgument(string argument, string? suggestion)
    {
        var text = new StringBuilder($"error: unexpected argument '{argument}' found\n\n");
        if (suggestion is not null)
        {
            text.Append($"  tip: a similar argument exists: '{suggestion}'\n\n");
        }

        return Exit(text.Append(Usage).Append("\n\n").Append(MoreInfo));
    }

    public static CommandLineExit UsedMultipleTimes(ArgSpec arg) =>
        Exit(new StringBuilder($"error: the argument '{arg.Display}' cannot be used multiple times\n\n{Usage}\n\n{MoreInfo}"));

    public static CommandLineExit ValueRequired(ArgSpec arg)
    {
        var text = new StringBuilder($"error: a value is required for '{arg.Display}' but none was supplied\n");
        AppendPossibleValues(text, arg);
        return Exit(text.Append('\n').Append(MoreInfo));
    }

    public static CommandLineExit InvalidValue(ArgSpec arg, string value)
    {
        var text = new StringBuilder($"error: invalid value '{value}' for '{arg.Display}'\n");
        AppendPossibleValues(text, arg);
        string? suggestion = Suggestions.Closest(value, arg.PossibleValues ?? []);
        if (suggestion is not null)
        {
            text.Append($"\n  tip: a similar value exists: '{suggestion}'\n");
        }

        return Exit(text.Append('\n').Append(MoreInfo));
    }

    public static CommandLineExit UnexpectedValue(ArgSpec arg, string value) =>
        Exit(new StringBuilder($"error: unexpected value '{value}' for '{arg.Display}' found; no more were expected\n\n{Usage}\n\n{MoreInfo}"));

    public static CommandLineExit MissingPayload(IReadOnlyList<ArgSpec> used)
    {
        const string payload = "<--firmware <firmware>|--kernel <kernel>>";
        var usage = new StringBuilder($"Usage: {CliDefinition.BinaryName}");
        foreach (var arg in used)
        {
            usage.Append(' ').Append(arg.Display);
        }

        usage.Append(' ').Append(payload);
        return Exit(new StringBuilder($"error: the following required arguments were not provided:\n  {payload}\n\n{usage}\n\n{MoreInfo}"));
    }

    private static void AppendPossibleValues(StringBuilder text, ArgSpec arg)
    {
        if (arg.PossibleValues is { Length: > 0 } values)
        {
            text.Append("  [possible values: ").Append(string.Join(", ", values)).Append("]\n");
        }
    }

    private static CommandLineExit Exit(StringBuilder text) => new(text.ToString(), 2, toStdout: false);
}
