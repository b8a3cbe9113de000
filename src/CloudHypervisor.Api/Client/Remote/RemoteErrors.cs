using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// A top-level ch-remote failure ("http client error", "Error parsing disk syntax", ...), with
/// the name of upstream's error variant for the "Fatal error:" log record.
/// </summary>
public sealed class RemoteCommandException(string message, string variant, Exception cause) : ChainedException(message, cause)
{
    /// <summary>Upstream's variant name, e.g. HttpApiClient or AddDiskConfig.</summary>
    public string Variant { get; } = variant;
}

/// <summary>A parse error wrapped by upstream's migration data types, e.g. "Failed to parse vm receive migration configuration".</summary>
public sealed class MigrationParseException(string message, string variant, Exception cause) : ChainedException(message, cause)
{
    public string Variant { get; } = variant;
}

/// <summary>A size that is not "&lt;number&gt;[K|M|G]": upstream's ByteSizedParseError::InvalidValue.</summary>
public sealed class ByteSizeParseException(string value) : ChainedException($"Invalid value: {value}")
{
    public string Value { get; } = value;

    /// <summary>Like option_parser's ByteSized: trimmed; the last K/M/G picks the shift; all trailing K/M/G are dropped.</summary>
    public static ulong Parse(string text)
    {
        var s = text.Trim();
        var shift = s.Length == 0 ? 0 : s[^1] switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            _ => 0,
        };
        var number = s.TrimEnd('K', 'M', 'G');
        try
        {
            return IntegerParseException.ParseUnsigned(number, ulong.MaxValue) << shift;
        }
        catch (IntegerParseException)
        {
            throw new ByteSizeParseException(number);
        }
    }
}

/// <summary>
/// Where upstream unwraps a missing optional argument and panics (exit code 101). We end the same
/// way, with a plain message instead of a panic trace.
/// </summary>
public sealed class RemotePanicException(string message) : Exception(message);
