using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CloudHypervisor.Api.Client;

/// <summary>
/// Compact JSON with serde_json's string escaping: only the quote, the backslash and C0 controls
/// are escaped (\b \f \n \r \t, others as lower-case \u00xx); '/', '+', '&lt;', DEL and non-ASCII
/// text are written as raw UTF-8. Uses the source-generated (reflection-free) contract metadata.
/// </summary>
public static class SerdeJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = SerdeJsonEncoder.Instance, Indented = false };

    public static byte[] SerializeToUtf8Bytes<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string Serialize<T>(T value, JsonTypeInfo<T> typeInfo) =>
        System.Text.Encoding.UTF8.GetString(SerializeToUtf8Bytes(value, typeInfo));
}

/// <summary>The escaping rules of serde_json's compact formatter.</summary>
internal sealed class SerdeJsonEncoder : JavaScriptEncoder
{
    public static readonly SerdeJsonEncoder Instance = new();

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or '"' or '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            if (WillEncode(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        ReadOnlySpan<char> escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\b' => "\\b",
            '\f' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            < 0x20 => $"\\u00{unicodeScalar:x2}",
            _ => char.ConvertFromUtf32(unicodeScalar),
        };
        if (escaped.Length > bufferLength)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        escaped.CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = escaped.Length;
        return true;
    }
}
