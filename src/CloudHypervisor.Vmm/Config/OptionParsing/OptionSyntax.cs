using System.Text;

namespace CloudHypervisor.Vmm.Config.OptionParsing;

/// <summary>
/// The lexical rules shared by the option parser and the list converters: quote- and
/// bracket-aware comma splitting, and de-quoting.
/// </summary>
public static class OptionSyntax
{
    /// <summary>
    /// Splits the trimmed input on commas that are neither inside "quotes" nor inside [brackets].
    /// Quote characters are kept. Returns null when quotes or brackets are unbalanced.
    /// </summary>
    public static List<string>? SplitCommas(string input)
    {
        var items = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        bool inQuotes = false;
        foreach (char c in input.Trim())
        {
            if (c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes)
            {
                if (c == '[')
                {
                    depth++;
                }
                else if (c == ']')
                {
                    if (depth == 0)
                    {
                        return null;
                    }

                    depth--;
                }
                else if (c == ',' && depth == 0)
                {
                    items.Add(current.ToString());
                    current.Clear();
                    continue;
                }
            }

            current.Append(c);
        }

        items.Add(current.ToString());
        return inQuotes || depth != 0 ? null : items;
    }

    /// <summary>
    /// Removes quote characters; a doubled quote outside a quoted run ("") yields a literal quote.
    /// </summary>
    public static string Dequote(string value)
    {
        if (value.IndexOf('"') < 0)
        {
            return value;
        }

        var output = new StringBuilder(value.Length);
        char previous = '\0';
        bool inQuotes = false;
        foreach (char c in value)
        {
            if (c == '"')
            {
                if (previous == '"' && !inQuotes)
                {
                    output.Append('"');
                }

                inQuotes = !inQuotes;
            }
            else
            {
                output.Append(c);
            }

            previous = c;
        }

        return output.ToString();
    }
}
