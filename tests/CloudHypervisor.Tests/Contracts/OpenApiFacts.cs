using System.Text.Json;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// Flattens an OpenAPI document into comparable facts such as
/// <c>components.schemas.DiskConfig.properties.num_queues.default = 1</c>. Prose (descriptions,
/// summaries, examples) and vendor extensions (<c>x-*</c>) are not facts; list members
/// (enum values, required names) are each a fact of their own, so their order does not matter.
/// </summary>
internal static class OpenApiFacts
{
    private static readonly HashSet<string> Prose = ["description", "summary", "example", "examples"];

    public static SortedSet<string> Of(JsonElement document)
    {
        var facts = new SortedSet<string>(StringComparer.Ordinal);
        Collect(document, "", facts);
        return facts;
    }

    private static void Collect(JsonElement element, string path, SortedSet<string> facts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var member in element.EnumerateObject())
                {
                    if (Prose.Contains(member.Name) || member.Name.StartsWith("x-", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    any = true;
                    Collect(member.Value, path.Length == 0 ? member.Name : $"{path}.{member.Name}", facts);
                }

                if (!any)
                {
                    facts.Add($"{path} = {{}}");
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                    {
                        Collect(item, $"{path}[{index}]", facts);
                    }
                    else
                    {
                        facts.Add($"{path}[] = {Scalar(item)}");
                    }

                    index++;
                }

                if (index == 0)
                {
                    facts.Add($"{path} = []");
                }

                break;
            default:
                facts.Add($"{path} = {Scalar(element)}");
                break;
        }
    }

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };
}
