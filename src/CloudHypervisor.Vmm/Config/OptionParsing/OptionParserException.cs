using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Config.OptionParsing;

/// <summary>The leaf errors of the key=value option parser, worded like upstream's option_parser crate.</summary>
public sealed class OptionParserException : ChainedException
{
    private OptionParserException(string message)
        : base(message)
    {
    }

    public static OptionParserException UnknownOption(string key) => new($"Unknown option: {key}");

    public static OptionParserException InvalidSyntax(string input) => new($"Invalid syntax: {input}");

    public static OptionParserException Conversion(string key, string rawValue) => new($"Unable to convert {rawValue} for {key}");

    public static OptionParserException InvalidValue(string value) => new($"Invalid value: {value}");
}
