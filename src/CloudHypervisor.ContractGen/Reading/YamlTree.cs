using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CloudHypervisor.ContractGen.Reading;

/// <summary>
/// Loads YAML into plain values: ordered maps (<see cref="YamlMap"/>), lists and
/// typed scalars (plain <c>true</c>/<c>12</c> become bool/long; quoted text stays a string).
/// </summary>
public static class YamlTree
{
    public static YamlMap Load(TextReader reader)
    {
        var stream = new YamlStream();
        stream.Load(reader);
        if (stream.Documents.Count != 1)
        {
            throw new ContractGenException($"expected one YAML document, found {stream.Documents.Count}");
        }

        return Convert(stream.Documents[0].RootNode) as YamlMap
            ?? throw new ContractGenException("the YAML document is not a mapping");
    }

    private static object? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => ConvertMap(map),
        YamlSequenceNode seq => seq.Children.Select(Convert).ToList(),
        YamlScalarNode scalar => ConvertScalar(scalar),
        _ => throw new ContractGenException($"unsupported YAML node at {node.Start}"),
    };

    private static YamlMap ConvertMap(YamlMappingNode map)
    {
        var result = new YamlMap();
        foreach (var (key, value) in map.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            if (result.ContainsKey(name))
            {
                throw new ContractGenException($"duplicate key '{name}' at {key.Start}");
            }

            result.Add(name, Convert(value));
        }

        return result;
    }

    private static object? ConvertScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            return text;
        }

        return text switch
        {
            "true" => true,
            "false" => false,
            "null" or "~" or "" => null,
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) => number,
            _ => text,
        };
    }
}

/// <summary>A YAML mapping that keeps the document's key order.</summary>
public sealed class YamlMap : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> entries = [];

    public IEnumerable<string> Keys => entries.Select(e => e.Key);

    public bool ContainsKey(string key) => entries.Exists(e => e.Key == key);

    public void Add(string key, object? value) => entries.Add(new(key, value));

    public object? this[string key] => entries.FirstOrDefault(e => e.Key == key).Value;

    public YamlMap? Map(string key) => this[key] as YamlMap;

    public List<object?>? List(string key) => this[key] as List<object?>;

    public string? String(string key) => this[key]?.ToString();

    public bool Flag(string key) => this[key] is true;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
