using System.Text;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>Accumulates C# text with block indentation.</summary>
public sealed class CodeWriter
{
    private readonly StringBuilder text = new();
    private int depth;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            text.Append(' ', depth * 4);
        }

        text.Append(line).Append('\n');
        return this;
    }

    public IDisposable Block(string header)
    {
        Line(header).Line("{");
        depth++;
        return new Closer(this);
    }

    public void Summary(string? description)
    {
        if (string.IsNullOrWhiteSpace(description))
        {
            return;
        }

        Line("/// <summary>");
        foreach (var line in description.Trim().Split('\n'))
        {
            Line("/// " + Naming.XmlEscape(line.TrimEnd()));
        }

        Line("/// </summary>");
    }

    public override string ToString() => text.ToString();

    private sealed class Closer(CodeWriter writer) : IDisposable
    {
        public void Dispose()
        {
            writer.depth--;
            writer.Line("}");
        }
    }
}
