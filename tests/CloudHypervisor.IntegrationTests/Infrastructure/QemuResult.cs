namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>A finished QEMU run: the process outcome and the guest's serial output.</summary>
public sealed record QemuResult(ProcessResult Process, string Serial, string CommandLine)
{
    public int ExitCode => Process.ExitCode;

    public bool TimedOut => Process.TimedOut;

    public IReadOnlyList<string> SerialLines => SerialText.Lines(Serial);

    /// <summary>Serial lines starting with the prefix (e.g. "hello: ").</summary>
    public IReadOnlyList<string> LinesStartingWith(string prefix) =>
        SerialLines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    /// <summary>The value of "prefix key=value" lines, e.g. Value("hello: cmdline=").</summary>
    public string? ValueAfter(string linePrefix) =>
        SerialLines.FirstOrDefault(l => l.StartsWith(linePrefix, StringComparison.Ordinal))?[linePrefix.Length..];

    public override string ToString() =>
        $"{CommandLine}\n{Process}\n--- serial ---\n{Serial}";
}
