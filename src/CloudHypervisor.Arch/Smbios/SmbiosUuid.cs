using System.Globalization;
using System.Text;

namespace CloudHypervisor.Arch.Smbios;

/// <summary>
/// UUID text as upstream's uuid crate parses it (simple, hyphenated, `{braced}`, `urn:uuid:`), with its error messages,
/// and the byte order SMBIOS stores: time_low, time_mid and time_hi_and_version little-endian, the rest as written.
/// </summary>
public static class SmbiosUuid
{
    private const string UrnPrefix = "urn:uuid:";
    private static readonly int[] GroupStarts = [0, 9, 14, 19, 24];
    private static readonly int[] GroupLengths = [8, 4, 4, 4, 12];

    /// <summary>The 16 bytes of the type 1 UUID field.</summary>
    public static byte[] ToSmbiosBytes(string text)
    {
        var bytes = Parse(text);
        bytes.AsSpan(0, 4).Reverse();
        bytes.AsSpan(4, 2).Reverse();
        bytes.AsSpan(6, 2).Reverse();
        return bytes;
    }

    /// <summary>The 16 bytes in RFC 4122 (big-endian) order; throws <see cref="SmbiosException"/> with the uuid crate's message.</summary>
    public static byte[] Parse(string text)
    {
        var hyphenated = text.Length switch
        {
            36 => text,
            38 when text[0] == '{' && text[^1] == '}' => text[1..^1],
            45 when text.StartsWith(UrnPrefix, StringComparison.Ordinal) => text[UrnPrefix.Length..],
            _ => null,
        };

        var hex = text.Length == 32 ? text : hyphenated is not null && HyphensInPlace(hyphenated) ? hyphenated.Replace("-", string.Empty, StringComparison.Ordinal) : null;
        if (hex is not null && hex.Length == 32 && IsHex(hex))
        {
            return Convert.FromHexString(hex);
        }

        throw new SmbiosException(Describe(text));
    }

    private static bool HyphensInPlace(string s) => s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';

    private static bool IsHex(string s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why <paramref name="text"/> is not a UUID, worded and counted (byte offsets, 1-based) as the uuid crate does.</summary>
    private static string Describe(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        var (body, offset, simple) = text switch
        {
            ['{', .., '}'] => (input[1..^1], 1, false),
            _ when text.StartsWith(UrnPrefix, StringComparison.Ordinal) => (input[UrnPrefix.Length..], UrnPrefix.Length, false),
            _ => (input, 0, true),
        };

        var hyphens = 0;
        Span<int> hyphenAt = stackalloc int[4];
        for (var index = 0; index < body.Length;)
        {
            Rune.DecodeFromUtf8(body.AsSpan(index), out var rune, out var consumed);
            if (rune.Value == '-')
            {
                if (hyphens < 4)
                {
                    hyphenAt[hyphens] = index;
                }

                hyphens++;
            }
            else if (!rune.IsAscii || !char.IsAsciiHexDigit((char)rune.Value))
            {
                return $"invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{rune}` at {index + offset + 1}";
            }

            index += consumed;
        }

        if (hyphens == 0 && simple)
        {
            return $"invalid length: expected length 32 for simple format, found {input.Length}";
        }

        if (hyphens != 4)
        {
            return $"invalid group count: expected 5, found {hyphens + 1}";
        }

        for (var group = 0; group < 4; group++)
        {
            if (hyphenAt[group] != GroupStarts[group + 1] - 1)
            {
                return GroupLength(group, hyphenAt[group] - GroupStarts[group]);
            }
        }

        // Every hyphen is in place, so the last group is the wrong length (the crate measures it against the whole input).
        return GroupLength(4, input.Length - GroupStarts[4]);
    }

    private static string GroupLength(int group, int length) =>
        string.Create(CultureInfo.InvariantCulture, $"invalid group length in group {group}: expected {GroupLengths[group]}, found {length}");
}
