using System.Text;

namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>The --help screen: clap's default template with every option on its own line.</summary>
public static class HelpText
{
    public static string Render()
    {
        var text = new StringBuilder();
        text.Append(CliDefinition.About).Append("\n\n");
        text.Append(ClapErrors.Usage).Append("\n\nOptions:\n");
        foreach (var arg in CliDefinition.Args)
        {
            text.Append(arg.Short is { } s ? $"  -{s}" : "    ");
            if (arg.Long is not null)
            {
                text.Append(arg.Short is null ? "  " : ", ").Append("--").Append(arg.Long);
            }

            switch (arg.Kind)
            {
                case ArgKind.Single:
                    text.Append($" <{arg.Id}>");
                    break;
                case ArgKind.Multiple:
                    text.Append($" <{arg.Id}>...");
                    break;
                case ArgKind.OptionalValue:
                    text.Append($" [<{arg.Id}>]");
                    break;
            }

            text.Append("\n          ").Append(arg.Help.Replace("\n", "\n          ", StringComparison.Ordinal));
            if (arg.DefaultValue is not null && arg.Kind != ArgKind.Flag)
            {
                text.Append(arg.Help.Length > 0 ? " " : string.Empty).Append($"[default: {arg.DefaultValue}]");
            }

            if (arg.PossibleValues is { } values)
            {
                text.Append($" [possible values: {string.Join(", ", values)}]");
            }

            text.Append("\n\n");
        }

        text.Length--;
        return text.ToString();
    }
}
