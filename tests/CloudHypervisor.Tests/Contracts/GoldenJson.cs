using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>Reads request bodies and golden outputs from test_data/api and round-trips them.</summary>
internal static class GoldenJson
{
    public static string Read(string name) =>
        File.ReadAllText(ContractsTestLayout.TestData(name)).TrimEnd('\n', '\r');

    /// <summary>Deserializes <c>{case}.request.json</c> and serializes it back.</summary>
    public static (T Value, string Written) RoundTrip<T>(string caseName, JsonTypeInfo<T> typeInfo)
    {
        var value = JsonSerializer.Deserialize(Read(caseName + ".request.json"), typeInfo)
            ?? throw new InvalidOperationException($"{caseName}: the request body is JSON null");
        return (value, JsonSerializer.Serialize(value, typeInfo));
    }
}
