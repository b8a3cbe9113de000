using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudHypervisor.Contracts.Json;

/// <summary>
/// A file descriptor number inside JSON means nothing in this process: like upstream, any
/// number read is replaced by the placeholder -1 (real descriptors arrive via SCM_RIGHTS).
/// Writing emits the value held.
/// </summary>
public sealed class FdPlaceholderConverter : JsonConverter<int?>
{
    public const int Placeholder = -1;

    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        _ = SerdeErrors.ReadInt32(ref reader);
        return Placeholder;
    }

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
    {
        if (value is { } fd)
        {
            writer.WriteNumberValue(fd);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>A list of file descriptors: read as as many -1 placeholders as numbers given.</summary>
public sealed class FdPlaceholderListConverter : JsonConverter<List<int>?>
{
    public override List<int>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw SerdeErrors.InvalidType(ref reader, "a sequence");
        }

        var placeholders = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            _ = SerdeErrors.ReadInt32(ref reader);
            placeholders.Add(FdPlaceholderConverter.Placeholder);
        }

        return placeholders;
    }

    public override void Write(Utf8JsonWriter writer, List<int>? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartArray();
        foreach (var fd in value)
        {
            writer.WriteNumberValue(fd);
        }

        writer.WriteEndArray();
    }
}
