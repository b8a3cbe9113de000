using System.Text;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>Turns wire names (snake_case, kebab-case, enum spellings) into C# identifiers.</summary>
public static class Naming
{
    /// <summary><c>boot_vcpus</c> → <c>BootVcpus</c>, <c>virtio-mem</c> → <c>VirtioMem</c>, <c>type_</c> → <c>Type</c>.</summary>
    public static string Pascal(string wireName)
    {
        var result = new StringBuilder(wireName.Length);
        var upperNext = true;
        foreach (var c in wireName)
        {
            if (!char.IsLetterOrDigit(c))
            {
                upperNext = true;
                continue;
            }

            result.Append(upperNext ? char.ToUpperInvariant(c) : c);
            upperNext = false;
        }

        if (result.Length == 0 || char.IsDigit(result[0]))
        {
            result.Insert(0, '_');
        }

        return result.ToString();
    }

    public static string StringLiteral(string value)
    {
        var result = new StringBuilder("\"");
        foreach (var c in value)
        {
            result.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return result.Append('"').ToString();
    }

    public static string XmlEscape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);
}
