using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client;

/// <summary>Why text is not an unsigned integer, as Rust's ParseIntError kinds.</summary>
public enum IntegerErrorKind
{
    Empty,
    InvalidDigit,
    PosOverflow,
}

/// <summary>An unsigned integer that did not parse; worded like Rust's ParseIntError.</summary>
public sealed class IntegerParseException : ChainedException
{
    public IntegerParseException(IntegerErrorKind kind)
        : base(Describe(kind))
    {
        Kind = kind;
    }

    public IntegerErrorKind Kind { get; }

    /// <summary>Parses like Rust's <c>str::parse</c> for an unsigned type: optional '+', decimal digits, no spaces.</summary>
    public static ulong ParseUnsigned(ReadOnlySpan<char> text, ulong max)
    {
        if (text.IsEmpty)
        {
            throw new IntegerParseException(IntegerErrorKind.Empty);
        }

        var digits = text.Length > 1 && text[0] == '+' ? text[1..] : text;
        ulong value = 0;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                throw new IntegerParseException(IntegerErrorKind.InvalidDigit);
            }

            var digit = (ulong)(c - '0');
            if (value > (max - digit) / 10)
            {
                throw new IntegerParseException(IntegerErrorKind.PosOverflow);
            }

            value = (value * 10) + digit;
        }

        return value;
    }

    private static string Describe(IntegerErrorKind kind) => kind switch
    {
        IntegerErrorKind.Empty => "cannot parse integer from empty string",
        IntegerErrorKind.InvalidDigit => "invalid digit found in string",
        _ => "number too large to fit in target type",
    };
}
