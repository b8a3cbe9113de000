namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>
/// A small argv parser with clap 4's rules for this command: long options with "=value" or a
/// following word, multi-value options that take every following non-option word, counted
/// short flags, groups with "vm-config requires vm-payload", and clap's error texts.
/// </summary>
public static class ArgvParser
{
    public static ParsedArguments Parse(IReadOnlyList<string> argv)
    {
        var parsed = new ParsedArguments();
        bool anyArgument = false;
        int i = 0;
        while (i < argv.Count)
        {
            string word = argv[i++];
            anyArgument = true;
            if (word == "--")
            {
                if (i < argv.Count)
                {
                    throw ClapErrors.UnexpectedArgument(argv[i], null);
                }

                break;
            }

            if (word.StartsWith("--", StringComparison.Ordinal))
            {
                i = ParseLong(argv, i, word, parsed);
            }
            else if (word.Length > 1 && word[0] == '-')
            {
                ParseShortCluster(word, parsed);
            }
            else
            {
                throw ClapErrors.UnexpectedArgument(word, null);
            }
        }

        if (!anyArgument || parsed.Explicit.Count == 0)
        {
            throw new CommandLineExit(HelpText.Render(), 2, toStdout: false);
        }

        CheckPayloadRequirement(parsed);
        return parsed;
    }

    private static int ParseLong(IReadOnlyList<string> argv, int next, string word, ParsedArguments parsed)
    {
        int equals = word.IndexOf('=');
        string name = equals < 0 ? word[2..] : word[2..equals];
        string? attached = equals < 0 ? null : word[(equals + 1)..];
        var arg = CliDefinition.FindLong(name) ?? throw UnknownLong(name);

        switch (arg.Kind)
        {
            case ArgKind.Help:
                throw new CommandLineExit(HelpText.Render(), 0, toStdout: true);
            case ArgKind.Flag:
            case ArgKind.Count:
                if (attached is not null)
                {
                    throw ClapErrors.UnexpectedValue(arg, attached);
                }

                SetFlag(arg, parsed);
                return next;
            case ArgKind.Single:
                RejectRepeat(arg, parsed);
                if (attached is null)
                {
                    if (!IsValueWord(argv, next))
                    {
                        throw ClapErrors.ValueRequired(arg);
                    }

                    attached = argv[next++];
                }

                AddValue(arg, attached, parsed);
                return next;
            case ArgKind.OptionalValue:
                RejectRepeat(arg, parsed);
                if (attached is null && IsValueWord(argv, next))
                {
                    attached = argv[next++];
                }

                AddValue(arg, attached ?? string.Empty, parsed);
                return next;
            case ArgKind.Multiple:
                if (attached is not null)
                {
                    AddValue(arg, attached, parsed);
                    return next;
                }

                if (!IsValueWord(argv, next))
                {
                    throw ClapErrors.ValueRequired(arg);
                }

                while (IsValueWord(argv, next))
                {
                    AddValue(arg, argv[next++], parsed);
                }

                return next;
            default:
                throw new InvalidOperationException($"unhandled argument kind {arg.Kind}");
        }
    }

    private static void ParseShortCluster(string word, ParsedArguments parsed)
    {
        for (int c = 1; c < word.Length; c++)
        {
            var arg = CliDefinition.FindShort(word[c]) ?? throw ClapErrors.UnexpectedArgument("-" + word[c], null);
            if (arg.Kind == ArgKind.Help)
            {
                throw new CommandLineExit(HelpText.Render(), 0, toStdout: true);
            }

            SetFlag(arg, parsed);
        }
    }

    /// <summary>A following word is a value unless it looks like an option (clap does not allow hyphen values here).</summary>
    private static bool IsValueWord(IReadOnlyList<string> argv, int index)
    {
        if (index >= argv.Count)
        {
            return false;
        }

        string word = argv[index];
        return !(word.Length > 1 && word[0] == '-');
    }

    private static void SetFlag(ArgSpec arg, ParsedArguments parsed)
    {
        if (arg.Kind == ArgKind.Flag)
        {
            RejectRepeat(arg, parsed);
        }

        parsed.MarkPresent(arg);
    }

    private static void AddValue(ArgSpec arg, string value, ParsedArguments parsed)
    {
        if (arg.PossibleValues is { } possible && Array.IndexOf(possible, value) < 0)
        {
            throw ClapErrors.InvalidValue(arg, value);
        }

        parsed.Add(arg, value);
    }

    private static void RejectRepeat(ArgSpec arg, ParsedArguments parsed)
    {
        if (parsed.IsPresent(arg.Id))
        {
            throw ClapErrors.UsedMultipleTimes(arg);
        }
    }

    private static CommandLineExit UnknownLong(string name)
    {
        var longNames = new List<string>();
        foreach (var candidate in CliDefinition.Args)
        {
            if (candidate.Long is not null)
            {
                longNames.Add(candidate.Long);
            }
        }

        string? suggestion = Suggestions.Closest(name, longNames);
        return ClapErrors.UnexpectedArgument("--" + name, suggestion is null ? null : "--" + suggestion);
    }

    private static void CheckPayloadRequirement(ParsedArguments parsed)
    {
        bool vmConfig = false;
        foreach (var arg in parsed.Explicit)
        {
            if (arg.Group == ArgGroup.VmPayload)
            {
                return;
            }

            vmConfig |= arg.Group == ArgGroup.VmConfig;
        }

        if (vmConfig)
        {
            throw ClapErrors.MissingPayload(parsed.Explicit);
        }
    }
}
