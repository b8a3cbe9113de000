namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>The words clap would have matched: explicit values per argument id, counts and flags.</summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly List<ArgSpec> _explicit = [];

    public int Verbosity { get; private set; }

    /// <summary>Arguments given on the command line, in first-seen order.</summary>
    public IReadOnlyList<ArgSpec> Explicit => _explicit;

    public bool IsPresent(string id) => _values.ContainsKey(id);

    /// <summary>The explicit value, else the argument's default, else null.</summary>
    public string? One(string id)
    {
        if (_values.TryGetValue(id, out var values))
        {
            return values.Count > 0 ? values[^1] : null;
        }

        return CliDefinition.FindLong(id)?.DefaultValue;
    }

    public IReadOnlyList<string>? Many(string id) => _values.TryGetValue(id, out var values) ? values : null;

    public bool Flag(string id) => _values.ContainsKey(id);

    internal void MarkPresent(ArgSpec arg)
    {
        if (!_values.ContainsKey(arg.Id))
        {
            _values[arg.Id] = [];
            _explicit.Add(arg);
        }

        if (arg.Kind == ArgKind.Count)
        {
            Verbosity++;
        }
    }

    internal void Add(ArgSpec arg, string value)
    {
        MarkPresent(arg);
        _values[arg.Id].Add(value);
    }
}
