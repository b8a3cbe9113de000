namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>How an argument consumes command-line words (the clap actions upstream uses).</summary>
public enum ArgKind
{
    /// <summary>Exactly one value; giving the option twice is an error.</summary>
    Single,

    /// <summary>One or more values (every following non-option word); repeatable, values append.</summary>
    Multiple,

    /// <summary>Zero or one value; a bare option means the empty string.</summary>
    OptionalValue,

    /// <summary>No value; giving it twice is an error.</summary>
    Flag,

    /// <summary>No value; counted (-vvv).</summary>
    Count,

    /// <summary>Prints help and exits.</summary>
    Help,
}

/// <summary>Argument groups, as in upstream's clap definition.</summary>
public enum ArgGroup
{
    None,
    VmConfig,
    VmPayload,
    VmmConfig,
    Logging,
}

/// <summary>One command-line argument: identity, value handling, group and help text.</summary>
public sealed record ArgSpec(
    string Id,
    string? Long,
    char? Short,
    ArgKind Kind,
    ArgGroup Group,
    string Help,
    string? DefaultValue = null,
    string[]? PossibleValues = null)
{
    public bool TakesValue => Kind is ArgKind.Single or ArgKind.Multiple or ArgKind.OptionalValue;

    /// <summary>How clap names the argument in messages: "--cpus &lt;cpus&gt;", "--disk &lt;disk&gt;...", "--rtc [&lt;rtc&gt;]", "-v".</summary>
    public string Display => Kind switch
    {
        ArgKind.Single => $"{Name} <{Id}>",
        ArgKind.Multiple => $"{Name} <{Id}>...",
        ArgKind.OptionalValue => $"{Name} [<{Id}>]",
        _ => Name,
    };

    public string Name => Long is not null ? "--" + Long : "-" + Short;
}
