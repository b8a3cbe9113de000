using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Logging;

/// <summary>A malformed --log-format string.</summary>
public sealed class LogFormatException : ChainedException
{
    private LogFormatException(string message)
        : base(message)
    {
    }

    public static LogFormatException Unterminated() => new("Unterminated '{' in format string");

    public static LogFormatException Unmatched() => new("Unmatched '}' in format string");

    public static LogFormatException UnknownToken(string name) => new($"Unknown format token '{{{name}}}'");
}
