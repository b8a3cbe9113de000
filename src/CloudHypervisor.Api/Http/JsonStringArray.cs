using System.Buffers;
using System.Text;

namespace CloudHypervisor.Api.Http;

/// <summary>
/// Compact JSON for an array of strings, escaped exactly like serde_json: quote, backslash and the
/// C0 controls (\b \f \n \r \t, others as lower-case \u00xx); everything else, '/' and non-ASCII
/// included, is written as raw UTF-8.
/// </summary>
public static class JsonStringArray
{
    public static byte[] Encode(IReadOnlyList<string> items)
    {
        var output = new ArrayBufferWriter<byte>(64);
        Append(output, (byte)'[');
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                Append(output, (byte)',');
            }

            AppendString(output, items[i]);
        }

        Append(output, (byte)']');
        return output.WrittenSpan.ToArray();
    }

    private static void AppendString(ArrayBufferWriter<byte> output, string text)
    {
        Append(output, (byte)'"');
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= ' ' && c != '"' && c != '\\')
            {
                continue;
            }

            AppendUtf8(output, text.AsSpan(start, i - start));
            start = i + 1;
            switch (c)
            {
                case '"': AppendAscii(output, "\\\""); break;
                case '\\': AppendAscii(output, "\\\\"); break;
                case '\b': AppendAscii(output, "\\b"); break;
                case '\f': AppendAscii(output, "\\f"); break;
                case '\n': AppendAscii(output, "\\n"); break;
                case '\r': AppendAscii(output, "\\r"); break;
                case '\t': AppendAscii(output, "\\t"); break;
                default:
                    AppendAscii(output, "\\u00");
                    Append(output, (byte)"0123456789abcdef"[c >> 4]);
                    Append(output, (byte)"0123456789abcdef"[c & 0xF]);
                    break;
            }
        }

        AppendUtf8(output, text.AsSpan(start));
        Append(output, (byte)'"');
    }

    private static void Append(ArrayBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void AppendAscii(ArrayBufferWriter<byte> output, string ascii)
    {
        foreach (var c in ascii)
        {
            Append(output, (byte)c);
        }
    }

    private static void AppendUtf8(ArrayBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var length = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, output.GetSpan(length));
        output.Advance(length);
    }
}
