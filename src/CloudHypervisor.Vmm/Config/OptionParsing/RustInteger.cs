namespace CloudHypervisor.Vmm.Config.OptionParsing;

/// <summary>
/// Integer parsing like Rust's FromStr for integers: decimal digits only, an optional leading
/// '+' (and '-' for signed types), no whitespace, overflow is an error.
/// </summary>
public static class RustInteger
{
    public static bool TryParseUnsigned(ReadOnlySpan<char> text, ulong max, out ulong value) => TryParseDigits(StripPlus(text), 10, max, out value);

    public static bool TryParseSigned(ReadOnlySpan<char> text, long min, long max, out long value)
    {
        value = 0;
        if (text.Length > 1 && text[0] == '-')
        {
            if (!TryParseDigits(text[1..], 10, (ulong)-(min + 1) + 1, out ulong magnitude))
            {
                return false;
            }

            value = magnitude == 0 ? 0 : -(long)(magnitude - 1) - 1;
            return true;
        }

        bool ok = TryParseDigits(StripPlus(text), 10, (ulong)max, out ulong positive);
        value = (long)positive;
        return ok;
    }

    /// <summary>Like Rust's from_str_radix for unsigned types.</summary>
    public static bool TryParseUnsignedRadix(ReadOnlySpan<char> text, int radix, ulong max, out ulong value) => TryParseDigits(StripPlus(text), radix, max, out value);

    private static ReadOnlySpan<char> StripPlus(ReadOnlySpan<char> text) => text.Length > 1 && text[0] == '+' ? text[1..] : text;

    private static bool TryParseDigits(ReadOnlySpan<char> digits, int radix, ulong max, out ulong value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        foreach (char c in digits)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 10,
                _ => int.MaxValue,
            };
            if (digit >= radix)
            {
                return false;
            }

            if (value > (max - (ulong)digit) / (ulong)radix)
            {
                return false;
            }

            value = (value * (ulong)radix) + (ulong)digit;
        }

        return true;
    }
}
