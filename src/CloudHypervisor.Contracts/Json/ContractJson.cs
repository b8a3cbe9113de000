using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CloudHypervisor.Contracts.Json;

/// <summary>Deserialization of request bodies with serde-like error messages.</summary>
public static class ContractJson
{
    private const string MissingRequiredMarker = "missing required properties including: '";

    /// <summary>Reads a JSON body into <typeparamref name="T"/>; a JSON <c>null</c> body is an error too.</summary>
    /// <exception cref="ContractJsonException">The body is not valid JSON for the contract.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, typeInfo)
                ?? throw new JsonException($"invalid type: null, expected struct {typeof(T).Name}");
        }
        catch (JsonException e)
        {
            throw new ContractJsonException(SerdeMessage(e), e);
        }
    }

    /// <summary>
    /// Rewords a System.Text.Json error the way serde_json words it, with serde's
    /// 1-based " at line L column C" suffix.
    /// </summary>
    public static string SerdeMessage(JsonException error)
    {
        var message = error.Message;
        string text;
        var missing = message.IndexOf(MissingRequiredMarker, StringComparison.Ordinal);
        if (missing >= 0)
        {
            var start = missing + MissingRequiredMarker.Length;
            var end = message.IndexOf('\'', start);
            text = $"missing field `{message[start..(end < 0 ? message.Length : end)]}`";
        }
        else if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            text = $"unknown field `{LastPathSegment(error.Path)}`";
        }
        else if (message.Contains("doesn't allow null values", StringComparison.Ordinal))
        {
            text = "invalid type: null, expected a value";
        }
        else if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            text = $"invalid type for field `{LastPathSegment(error.Path)}`";
        }
        else
        {
            // Messages raised by the generated converters are serde-worded already; for
            // anything else keep the first sentence, without System.Text.Json's location suffix.
            var location = message.IndexOf(" Path: ", StringComparison.Ordinal);
            text = location >= 0 ? message[..location] : message;
        }

        return error.LineNumber is { } line && error.BytePositionInLine is { } column
            ? $"{text} at line {line + 1} column {column}"
            : text;
    }

    private static string LastPathSegment(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "";
        }

        var dot = path.LastIndexOf('.');
        var segment = dot >= 0 ? path[(dot + 1)..] : path;
        var bracket = segment.IndexOf('[');
        return (bracket > 0 ? segment[..bracket] : segment).Trim('[', ']', '\'');
    }
}
