using System.Globalization;

namespace CloudHypervisor.Api.Http;

/// <summary>UTF-8 validation that reports failures the way Rust's <c>Utf8Error</c> displays them.</summary>
internal static class RustUtf8
{
    /// <summary>Null when valid, else e.g. "invalid utf-8 sequence of 1 bytes from index 5".</summary>
    public static string? Describe(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            var first = bytes[i];
            if (first < 0x80)
            {
                i++;
                continue;
            }

            var width = first switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 0,
            };
            if (width == 0)
            {
                return Invalid(1, i);
            }

            // The second byte's range depends on the first (no overlongs, surrogates or > U+10FFFF).
            var (low, high) = first switch
            {
                0xE0 => (0xA0, 0xBF),
                0xED => (0x80, 0x9F),
                0xF0 => (0x90, 0xBF),
                0xF4 => (0x80, 0x8F),
                _ => (0x80, 0xBF),
            };
            for (var k = 1; k < width; k++)
            {
                if (i + k >= bytes.Length)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"incomplete utf-8 byte sequence from index {i}");
                }

                var b = bytes[i + k];
                var ok = k == 1 ? b >= low && b <= high : b is >= 0x80 and <= 0xBF;
                if (!ok)
                {
                    return Invalid(k, i);
                }
            }

            i += width;
        }

        return null;
    }

    private static string Invalid(int length, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"invalid utf-8 sequence of {length} bytes from index {index}");
}
