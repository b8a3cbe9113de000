using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// Parses ch-remote's argv with clap 4's rules for upstream's definition: "--long value" and
/// "--long=value", "-h"/"-V" (short clusters), "--" ends options, one subcommand whose arguments
/// follow it. Help, version and usage errors leave as <see cref="CommandLineExit"/>.
/// </summary>
public static class RemoteCommandLine
{
    public static RemoteInvocation Parse(IReadOnlyList<string> argv)
    {
        string? apiSocket = null;
        var afterDoubleDash = false;
        for (var i = 0; i < argv.Count;)
        {
            var word = argv[i++];
            if (afterDoubleDash)
            {
                IReadOnlyList<string> tips = RemoteCommands.Find(word) is not null || word == RemoteCommands.Help.Name
                    ? [$"subcommand '{word}' exists; to use it, remove the '--' before it"]
                    : [];
                throw RemoteClapErrors.UnexpectedArgument(word, RemoteHelp.TopUsage, tips);
            }

            if (word == "--")
            {
                afterDoubleDash = true;
            }
            else if (word.StartsWith("--", StringComparison.Ordinal))
            {
                var (name, attached) = SplitLong(word);
                switch (name)
                {
                    case "api-socket":
                        if (apiSocket is not null)
                        {
                            throw RemoteClapErrors.UsedMultipleTimes(RemoteCommands.ApiSocket.Display, RemoteHelp.TopUsage);
                        }

                        apiSocket = attached ?? TakeValue(argv, ref i, RemoteCommands.ApiSocket.Display);
                        break;
                    case "help":
                        throw Help(RemoteHelp.Top());
                    case "version":
                        throw Version();
                    default:
                        throw UnknownTopLong(name, apiSocket is not null, argv, i);
                }
            }
            else if (word.Length > 1 && word[0] == '-')
            {
                // Flags act as soon as they are read, so only the first letter of a cluster matters.
                throw word[1] switch
                {
                    'h' => Help(RemoteHelp.Top()),
                    'V' => Version(),
                    _ => RemoteClapErrors.UnexpectedArgument("-" + word[1], RemoteHelp.TopUsage, []),
                };
            }
            else if (word == RemoteCommands.Help.Name)
            {
                throw HelpSubcommand(argv, i);
            }
            else
            {
                var command = RemoteCommands.Find(word)
                    ?? throw RemoteClapErrors.UnrecognizedSubcommand(word, Similar(word, SubcommandNames()));
                return new RemoteInvocation(apiSocket, command, ParseSubcommand(command, argv, i));
            }
        }

        // arg_required_else_help: nothing given at all shows the help (on stderr, exit 2).
        throw apiSocket is null ? new CommandLineExit(RemoteHelp.Top(), 2, toStdout: false) : RemoteClapErrors.MissingSubcommand();
    }

    private static Dictionary<string, string> ParseSubcommand(RemoteCommand command, IReadOnlyList<string> argv, int i)
    {
        var values = new Dictionary<string, string>();
        var afterDoubleDash = false;
        var positional = command.Positional;
        while (i < argv.Count)
        {
            var word = argv[i++];
            if (!afterDoubleDash && word == "--")
            {
                afterDoubleDash = true;
            }
            else if (!afterDoubleDash && word.StartsWith("--", StringComparison.Ordinal))
            {
                var (name, attached) = SplitLong(word);
                if (name == "help")
                {
                    throw Help(RemoteHelp.For(command));
                }

                var arg = command.FindLong(name) ?? throw UnknownSubcommandLong(command, name, values);
                if (values.ContainsKey(arg.Id))
                {
                    throw RemoteClapErrors.UsedMultipleTimes(arg.Display, RemoteHelp.Usage(command));
                }

                values[arg.Id] = attached ?? TakeValue(argv, ref i, arg.Display);
            }
            else if (!afterDoubleDash && word.Length > 1 && word[0] == '-')
            {
                var flag = "-" + word[1];
                throw word[1] == 'h'
                    ? Help(RemoteHelp.For(command))
                    : RemoteClapErrors.UnexpectedArgument(flag, RemoteHelp.Usage(command), TrailingTip(command, flag));
            }
            else if (positional is not null && !values.ContainsKey(positional.Id))
            {
                values[positional.Id] = word;
            }
            else
            {
                throw RemoteClapErrors.UnexpectedArgument(word, RemoteHelp.Usage(command), []);
            }
        }

        if (positional is not null && !values.ContainsKey(positional.Id))
        {
            if (positional.Required)
            {
                throw RemoteClapErrors.MissingRequired(command, positional);
            }

            if (positional.DefaultValue is { } value)
            {
                values[positional.Id] = value;
            }
        }

        return values;
    }

    private static (string Name, string? Attached) SplitLong(string word)
    {
        var equals = word.IndexOf('=');
        return equals < 0 ? (word[2..], null) : (word[2..equals], word[(equals + 1)..]);
    }

    /// <summary>The option's value from the next word; a word that looks like an option does not count.</summary>
    private static string TakeValue(IReadOnlyList<string> argv, ref int i, string display)
    {
        if (i < argv.Count && !(argv[i].Length > 1 && argv[i][0] == '-'))
        {
            return argv[i++];
        }

        throw RemoteClapErrors.ValueRequired(display);
    }

    private static CommandLineExit UnknownTopLong(string name, bool apiSocketUsed, IReadOnlyList<string> argv, int next)
    {
        var used = new List<string>();
        if (apiSocketUsed)
        {
            used.Add(RemoteCommands.ApiSocket.Display);
        }

        var tips = new List<string>();
        var suggestion = Best(name, ["api-socket", "help", "version"]);
        if (suggestion is not null)
        {
            tips.Add($"a similar argument exists: '--{suggestion}'");
            var suggested = suggestion == "api-socket" ? RemoteCommands.ApiSocket.Display : "--" + suggestion;
            if (!used.Contains(suggested))
            {
                used.Add(suggested);
            }
        }
        else if (SubcommandFlagSuggestion(name, argv, next) is { } elsewhere)
        {
            tips.Add($"'{elsewhere}' exists");
        }

        var usage = used.Count == 0 ? RemoteHelp.TopUsage : $"{RemoteCommands.BinaryName} {string.Join(' ', used)} <COMMAND>";
        return RemoteClapErrors.UnexpectedArgument("--" + name, usage, tips);
    }

    /// <summary>clap looks for the flag in the subcommands named later on the command line: "'resize --cpus' exists".</summary>
    private static string? SubcommandFlagSuggestion(string name, IReadOnlyList<string> argv, int next)
    {
        string? best = null;
        var bestPosition = int.MaxValue;
        foreach (var command in RemoteCommands.All)
        {
            var longs = command.Args.Where(a => !a.IsPositional).Select(a => a.Long!).Append("help");
            if (Best(name, longs) is not { } candidate)
            {
                continue;
            }

            for (var position = 0; next + position < argv.Count && position < bestPosition; position++)
            {
                if (argv[next + position] == command.Name)
                {
                    best = $"{command.Name} --{candidate}";
                    bestPosition = position;
                }
            }
        }

        return best;
    }

    private static CommandLineExit UnknownSubcommandLong(RemoteCommand command, string name, Dictionary<string, string> values)
    {
        var longs = command.Args.Where(a => !a.IsPositional).Select(a => a.Long!).Append("help");
        if (Best(name, longs) is not { } suggestion)
        {
            return RemoteClapErrors.UnexpectedArgument("--" + name, RemoteHelp.Usage(command), TrailingTip(command, "--" + name));
        }

        // clap's "smart usage": the options given so far and the suggested one, then the positional.
        var options = new List<string>();
        foreach (var id in values.Keys)
        {
            if (Array.Find(command.Args, a => a.Id == id) is { IsPositional: false } given)
            {
                options.Add(given.Display);
            }
        }

        var suggested = command.FindLong(suggestion)?.Display ?? "--" + suggestion;
        if (!options.Contains(suggested))
        {
            options.Add(suggested);
        }

        var usage = $"{RemoteCommands.BinaryName} {command.Name} {string.Join(' ', options)}";
        if (command.Positional is { } positional)
        {
            usage += values.ContainsKey(positional.Id) ? $" <{positional.Id}>" : $" {positional.Display}";
        }

        return RemoteClapErrors.UnexpectedArgument("--" + name, usage, [$"a similar argument exists: '--{suggestion}'"]);
    }

    private static List<string> TrailingTip(RemoteCommand command, string flag) =>
        command.Positional is null ? [] : [$"to pass '{flag}' as a value, use '-- {flag}'"];

    private static CommandLineExit HelpSubcommand(IReadOnlyList<string> argv, int i)
    {
        if (i >= argv.Count)
        {
            return Help(RemoteHelp.Top());
        }

        var name = argv[i];
        if (name == RemoteCommands.Help.Name)
        {
            return Help(RemoteHelp.For(RemoteCommands.Help));
        }

        if (RemoteCommands.Find(name) is not { } command)
        {
            return RemoteClapErrors.UnrecognizedSubcommand(name, Similar(name, SubcommandNames()));
        }

        // The subcommands have no subcommands of their own.
        return i + 1 < argv.Count
            ? RemoteClapErrors.UnrecognizedSubcommand(argv[i + 1], [], RemoteHelp.Usage(command))
            : Help(RemoteHelp.For(command));
    }

    private static CommandLineExit Help(string text) => new(text, 0, toStdout: true);

    private static CommandLineExit Version() => new($"{RemoteCommands.BinaryName} {RemoteCommands.Version}\n", 0, toStdout: true);

    private static IEnumerable<string> SubcommandNames() => RemoteCommands.All.Select(c => c.Name).Append(RemoteCommands.Help.Name);

    /// <summary>clap's did_you_mean: candidates with Jaro similarity above 0.7, least similar first (stable).</summary>
    private static List<string> Similar(string input, IEnumerable<string> candidates) =>
        candidates.Select(c => (Score: Suggestions.Jaro(input, c), Name: c))
            .Where(c => c.Score > 0.7)
            .OrderBy(c => c.Score)
            .Select(c => c.Name)
            .ToList();

    /// <summary>The most similar candidate (the last of <see cref="Similar"/>), or null.</summary>
    private static string? Best(string input, IEnumerable<string> candidates) => Similar(input, candidates).LastOrDefault();
}
