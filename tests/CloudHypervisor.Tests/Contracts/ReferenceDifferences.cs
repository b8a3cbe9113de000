namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// The allow-list test_data/api/reference-differences.txt: each deliberate difference between
/// our API document and upstream's, grouped under a "## reason" heading.
/// "+ fact" exists only in ours, "- fact" only in upstream's.
/// </summary>
internal sealed record ReferenceDifference(char Side, string Fact, string Reason, int Line)
{
    public static IReadOnlyList<ReferenceDifference> Load(string path)
    {
        var result = new List<ReferenceDifference>();
        string? reason = null;
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.TrimEnd();
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                reason = line[3..].Trim();
            }
            else if (line.Length > 2 && line[0] is '+' or '-' && line[1] == ' ')
            {
                Assert.False(reason is null, $"{path}:{lineNumber}: difference listed before any '## reason' line");
                result.Add(new ReferenceDifference(line[0], line[2..].Trim(), reason!, lineNumber));
            }
            else
            {
                Assert.True(line.Length == 0 || line.StartsWith('#'), $"{path}:{lineNumber}: not a reason, difference, comment or blank line: {line}");
            }
        }

        return result;
    }
}
