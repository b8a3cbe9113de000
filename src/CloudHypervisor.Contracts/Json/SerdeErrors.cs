using System.Text.Json;

namespace CloudHypervisor.Contracts.Json;

/// <summary>
/// Errors raised by the generated converters, worded like serde_json's messages
/// (without the " at line L column C" suffix, which the caller adds from the exception).
/// </summary>
public static class SerdeErrors
{
    /// <summary>Reads the string token naming an enum variant; anything else is a type error.</summary>
    public static string ReadVariantName(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String
            ? reader.GetString()!
            : throw InvalidType(ref reader, "variant identifier");

    public static int ReadInt32(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw InvalidType(ref reader, "i32");
        }

        return reader.TryGetInt32(out var value)
            ? value
            : throw new JsonException($"invalid value: integer `{reader.GetDouble()}`, expected i32");
    }

    /// <summary>serde's "unknown variant `x`, expected one of `A`, `B`, `C`".</summary>
    public static JsonException UnknownVariant(string variant, IReadOnlyList<string> expected)
    {
        var names = expected.Select(e => $"`{e}`").ToList();
        var choices = names.Count switch
        {
            0 => "there are no variants",
            1 => $"expected {names[0]}",
            2 => $"expected {names[0]} or {names[1]}",
            _ => "expected one of " + string.Join(", ", names),
        };
        return new JsonException($"unknown variant `{variant}`, {choices}");
    }

    /// <summary>serde's "invalid type: &lt;what was found&gt;, expected &lt;what&gt;".</summary>
    public static JsonException InvalidType(ref Utf8JsonReader reader, string expected)
    {
        var found = reader.TokenType switch
        {
            JsonTokenType.String => $"string \"{reader.GetString()}\"",
            JsonTokenType.Number when reader.TryGetInt64(out var integer) => $"integer `{integer}`",
            JsonTokenType.Number => $"floating point `{reader.GetDouble()}`",
            JsonTokenType.True => "boolean `true`",
            JsonTokenType.False => "boolean `false`",
            JsonTokenType.Null => "null",
            JsonTokenType.StartArray => "sequence",
            JsonTokenType.StartObject => "map",
            _ => reader.TokenType.ToString(),
        };
        return new JsonException($"invalid type: {found}, expected {expected}");
    }
}
