using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Config;

/// <summary>
/// "Error parsing --&lt;option&gt;" with the option parser error as cause, or a complete
/// message such as "Error parsing --fs: tag missing".
/// </summary>
public sealed class ConfigParseException : ChainedException
{
    private ConfigParseException(string message, Exception? cause)
        : base(message, cause)
    {
    }

    /// <summary>"Error parsing --&lt;option&gt;" caused by <paramref name="cause"/>.</summary>
    public static ConfigParseException Option(string option, Exception cause) => new($"Error parsing --{option}", cause);

    /// <summary>"Error parsing --&lt;option&gt;: &lt;problem&gt;" with no further cause.</summary>
    public static ConfigParseException Problem(string option, string problem) => new($"Error parsing --{option}: {problem}", null);

    /// <summary>A message upstream reports without the "Error parsing" prefix.</summary>
    public static ConfigParseException Plain(string message) => new(message, null);
}
