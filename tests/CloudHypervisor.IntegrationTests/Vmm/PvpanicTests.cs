using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>pvpanic on KVM: the `virtio` guest finds 1b36:0011 last on bus 0 and writes an event; the VMM logs it and emits `guest/panic`.</summary>
public sealed class PvpanicTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-pvpanic-");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task AGuestPanicReachesTheEventMonitorAndTheLog()
    {
        var events = Path.Combine(directory.FullName, "events.json");

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "pvpanic=1",
            "--memory", "size=128M", "--pvpanic", "--event-monitor", "path=" + events, "-v");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains("virtio: pvpanic 00:02.0 bar0=", string.Join('\n', lines));
        Assert.Contains(lines, l => l.StartsWith("virtio: pvpanic 00:02.0 ", StringComparison.Ordinal) && l.EndsWith(" events=0x3", StringComparison.Ordinal));
        Assert.Contains("virtio: pvpanic wrote 1", lines);
        Assert.Contains("pvpanic got guest event panic", result.StandardError);
        var monitor = await File.ReadAllTextAsync(events);
        Assert.Matches("\"source\":\\s*\"guest\",\\s*\"event\":\\s*\"panic\",\\s*\"properties\":\\s*\\{\\s*\"event\":\\s*\"panic\"", monitor);
    }

    [KvmFact]
    public async Task AnUnknownValueIsReportedAsUnknownEvent()
    {
        var events = Path.Combine(directory.FullName, "events.json");

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "pvpanic=4", "--memory", "size=128M", "--pvpanic", "--event-monitor", "path=" + events);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches("\"event\":\\s*\"unknown_event\"", await File.ReadAllTextAsync(events));
    }
}
