using System.Text.Json;

namespace CloudHypervisor.ContractGen.Reading;

/// <summary>
/// Writes a loaded YAML tree as JSON, so tools without a YAML parser (the contract tests)
/// can inspect an OpenAPI document with the same scalar typing the generator uses.
/// </summary>
public static class YamlJsonWriter
{
    public static void Write(YamlMap root, Stream output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        WriteValue(writer, root);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case List<object?> list:
                writer.WriteStartArray();
                list.ForEach(item => WriteValue(writer, item));
                writer.WriteEndArray();
                break;
            case YamlMap map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }

                writer.WriteEndObject();
                break;
            default:
                throw new ContractGenException($"cannot write {value.GetType()} as JSON");
        }
    }
}
