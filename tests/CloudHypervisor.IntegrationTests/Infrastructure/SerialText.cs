namespace CloudHypervisor.IntegrationTests.Infrastructure;

public static class SerialText
{
    /// <summary>Non-empty lines, without carriage returns.</summary>
    public static IReadOnlyList<string> Lines(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
}
