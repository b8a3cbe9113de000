using System.Globalization;
using System.Text;
using CloudHypervisor.Vmm.Config;

namespace CloudHypervisor.Api.Client;

/// <summary>
/// Reads a JSON array of strings (the server's error chain) the way serde_json reads a
/// <c>Vec&lt;String&gt;</c>, so that a body which is not one fails with serde_json's message and
/// its " at line L column C" position (byte columns, as serde counts them).
/// </summary>
public static class SerdeStringArray
{
    public static bool TryParse(string body, out List<string> items, out string error)
    {
        var reader = new Reader(Encoding.UTF8.GetBytes(body));
        try
        {
            items = reader.ReadDocument();
            error = string.Empty;
            return true;
        }
        catch (SyntaxError e)
        {
            items = [];
            error = e.Message;
            return false;
        }
    }

    private sealed class SyntaxError(string message) : Exception(message);

    private sealed class Reader(byte[] input)
    {
        private int index;

        public List<string> ReadDocument()
        {
            var peek = SkipWhitespace() ?? throw PeekError("EOF while parsing a value");
            if (peek != '[')
            {
                throw InvalidType(peek, "a sequence");
            }

            index++;
            var items = ReadElements();
            index++; // the closing bracket ReadElements stopped at
            if (SkipWhitespace() is not null)
            {
                throw PeekError("trailing characters");
            }

            return items;
        }

        private List<string> ReadElements()
        {
            var items = new List<string>();
            var first = true;
            while (true)
            {
                var peek = SkipWhitespace();
                if (peek == ']')
                {
                    return items;
                }

                if (peek == ',' && !first)
                {
                    index++;
                    peek = SkipWhitespace();
                }
                else if (peek is not null)
                {
                    if (!first)
                    {
                        throw PeekError("expected `,` or `]`");
                    }

                    first = false;
                }
                else
                {
                    throw PeekError("EOF while parsing a list");
                }

                items.Add(peek switch
                {
                    null => throw PeekError("EOF while parsing a value"),
                    (byte)']' => throw PeekError("trailing comma"),
                    (byte)'"' => ReadStringAfterQuote(),
                    _ => throw InvalidType(peek.Value, "a string"),
                });
            }
        }

        private string ReadStringAfterQuote()
        {
            index++;
            var text = new List<byte>();
            while (true)
            {
                if (index == input.Length)
                {
                    throw Error("EOF while parsing a string");
                }

                var b = input[index++];
                switch (b)
                {
                    case (byte)'"':
                        return Encoding.UTF8.GetString([.. text]);
                    case (byte)'\\':
                        ReadEscape(text);
                        break;
                    case < 0x20:
                        throw Error("control character (\\u0000-\\u001F) found while parsing a string");
                    default:
                        text.Add(b);
                        break;
                }
            }
        }

        private void ReadEscape(List<byte> text)
        {
            if (index == input.Length)
            {
                throw Error("EOF while parsing a string");
            }

            var c = input[index++];
            switch (c)
            {
                case (byte)'"' or (byte)'\\' or (byte)'/': text.Add(c); break;
                case (byte)'b': text.Add(8); break;
                case (byte)'f': text.Add(12); break;
                case (byte)'n': text.Add(10); break;
                case (byte)'r': text.Add(13); break;
                case (byte)'t': text.Add(9); break;
                case (byte)'u': text.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(ReadUnicodeEscape()))); break;
                default: throw Error("invalid escape");
            }
        }

        private int ReadUnicodeEscape()
        {
            var unit = ReadHex4();
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                throw Error("lone leading surrogate in hex escape");
            }

            if (unit is < 0xD800 or > 0xDBFF)
            {
                return unit;
            }

            if (index + 1 >= input.Length || input[index] != '\\' || input[index + 1] != 'u')
            {
                throw Error("unexpected end of hex escape");
            }

            index += 2;
            var low = ReadHex4();
            return low is >= 0xDC00 and <= 0xDFFF
                ? 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                : throw Error("lone leading surrogate in hex escape");
        }

        private int ReadHex4()
        {
            var value = 0;
            for (var i = 0; i < 4; i++)
            {
                if (index == input.Length)
                {
                    throw Error("EOF while parsing a string");
                }

                var digit = HexValue(input[index++]);
                value = digit < 0 ? throw Error("invalid escape") : (value << 4) | digit;
            }

            return value;
        }

        private static int HexValue(byte b) => b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };

        /// <summary>serde's peek_invalid_type: describe the value found, positioned after it.</summary>
        private SyntaxError InvalidType(byte peek, string expected)
        {
            string found;
            switch (peek)
            {
                case (byte)'n': index++; ReadIdent("ull"); found = "null"; break;
                case (byte)'t': index++; ReadIdent("rue"); found = "boolean `true`"; break;
                case (byte)'f': index++; ReadIdent("alse"); found = "boolean `false`"; break;
                case (byte)'"': found = "string " + RustDebug.Quote(ReadStringAfterQuote()); break;
                case (byte)'[': found = "sequence"; break;
                case (byte)'{': found = "map"; break;
                case (byte)'-' or (>= (byte)'0' and <= (byte)'9'): found = ReadNumber(); break;
                default: return PeekError("expected value");
            }

            return Error($"invalid type: {found}, expected {expected}");
        }

        private void ReadIdent(string rest)
        {
            foreach (var expected in rest)
            {
                if (index == input.Length)
                {
                    throw Error("EOF while parsing a value");
                }

                if (input[index++] != expected)
                {
                    throw Error("expected ident");
                }
            }
        }

        private string ReadNumber()
        {
            var start = index;
            index++;
            while (index < input.Length && input[index] is (>= (byte)'0' and <= (byte)'9') or (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-')
            {
                index++;
            }

            var text = Encoding.ASCII.GetString(input, start, index - start);
            if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
            {
                return $"integer `{unsigned}`";
            }

            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed))
            {
                return $"integer `{signed}`";
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            {
                throw Error("invalid number");
            }

            var shown = real.ToString("0.#################", CultureInfo.InvariantCulture);
            return $"floating point `{(shown.Contains('.') ? shown : shown + ".0")}`";
        }

        private byte? SkipWhitespace()
        {
            while (index < input.Length && input[index] is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r')
            {
                index++;
            }

            return index < input.Length ? input[index] : null;
        }

        /// <summary>An error positioned at the current read position.</summary>
        private SyntaxError Error(string message) => At(message, index);

        /// <summary>An error positioned after the peeked byte (serde's peek_error).</summary>
        private SyntaxError PeekError(string message) => At(message, Math.Min(input.Length, index + 1));

        private SyntaxError At(string message, int position)
        {
            var lineStart = Array.LastIndexOf(input, (byte)'\n', Math.Max(0, position - 1), position) + 1;
            var line = 1;
            for (var i = 0; i < lineStart; i++)
            {
                line += input[i] == '\n' ? 1 : 0;
            }

            return new SyntaxError($"{message} at line {line} column {position - lineStart}");
        }
    }
}
