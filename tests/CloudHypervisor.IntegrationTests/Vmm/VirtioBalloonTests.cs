using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Remote;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// virtio-balloon on KVM with the `balloon` guest, a polling driver that writes a marker into each
/// page before handing it over: the host gets the pages back (the VMM's RSS stays far below what the
/// guest touched), vm.info's memory_actual_size follows the balloon, `ch-remote resize --balloon`
/// gives the guest a new target it follows (pages it takes back read zeroed), and free page reports
/// are released too.
/// </summary>
public sealed partial class VirtioBalloonTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly string directory = Directory.CreateTempSubdirectory("ch-balloon-").FullName;

    private string Socket => Path.Combine(directory, "api.sock");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [KvmFact]
    public async Task TheGuestInflatesTheHostReclaimsThePagesAndAResizeIsFollowed()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Balloon), "--cmdline", "follow=1",
             "--serial", "tty", "--console", "off", "--memory", "size=256M", "--balloon", "size=128M"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);

        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("balloon: actual pages=32768\n"), "the guest to inflate 128 MiB");
        Assert.Contains("balloon: features=0x100000000 ", vmm.StandardOutput);
        Assert.Equal(128 * MiB, await MemoryActualSizeAsync(api));

        // The guest wrote to each of those 32768 pages before handing it over: without the release
        // the VMM would hold 128 MiB more.
        var rss = ResidentBytes(vmm.Id);
        Assert.True(rss < 64 * MiB, $"the VMM holds {rss / MiB} MiB after the guest gave back 128 MiB it had touched");

        var resize = await RemoteBinary.RunAsync(["--api-socket", Socket, "resize", "--balloon", "64M"]);
        Assert.True(resize.ExitCode == 0, resize.ToString());
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("balloon: actual pages=16384\n"), "the guest to deflate to 64 MiB");
        Assert.Contains("balloon: target pages=16384", vmm.StandardOutput);
        Assert.Contains("balloon: deflated pages=16384 zeroed=16384", vmm.StandardOutput);

        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.Equal("balloon: done", SerialText.Lines(exit.StandardOutput)[^1]);
    }

    [KvmFact]
    public async Task MemoryActualSizeFollowsTheBalloonAndTheConfigurationKeepsTheNewTarget()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Balloon), "--cmdline", "follow=2",
             "--serial", "tty", "--console", "off", "--memory", "size=256M", "--balloon", "size=32M,deflate_on_oom=on"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("balloon: actual pages=8192\n"), "the guest to inflate 32 MiB");
        Assert.Contains("balloon: features=0x100000004 ", vmm.StandardOutput);
        Assert.Equal(224 * MiB, await MemoryActualSizeAsync(api));

        Assert.Equal(204, (await api.PutAsync("vm.resize", """{"desired_balloon":100663296}""")).Status);

        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("balloon: actual pages=24576\n"), "the guest to inflate to 96 MiB");
        Assert.Equal(160 * MiB, await MemoryActualSizeAsync(api));
        using var info = JsonDocument.Parse((await api.GetAsync("vm.info")).Body);
        Assert.Equal(96 * MiB, info.RootElement.GetProperty("config").GetProperty("balloon").GetProperty("size").GetInt64());
        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
    }

    [KvmFact]
    public async Task FreePageReportsAreReleased()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Balloon, "report", "--memory", "size=128M", "--balloon", "size=0,free_page_reporting=on");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains(lines, l => l.StartsWith("balloon: features=0x100000020 ", StringComparison.Ordinal));
        Assert.Contains("balloon: actual pages=0", lines);
        Assert.Contains("balloon: reported bytes=1048576 zeroed=256 of 256", lines);
        Assert.Equal("balloon: done", lines[^1]);
    }

    [KvmFact]
    public async Task TheBalloonSitsAfterTheRngAsUpstreamOrdersIt()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Balloon), "--cmdline", "follow=1",
             "--serial", "tty", "--console", "off", "--memory", "size=128M", "--balloon", "size=4M"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("balloon: actual pages=1024\n"), "the guest to inflate");

        using var info = JsonDocument.Parse((await api.GetAsync("vm.info")).Body);
        var tree = info.RootElement.GetProperty("device_tree");
        Assert.Equal("0000:00:01.0", tree.GetProperty("_virtio-pci-__rng").GetProperty("pci_bdf").GetString());
        Assert.Equal("0000:00:02.0", tree.GetProperty("_virtio-pci-__balloon").GetProperty("pci_bdf").GetString());
        Assert.Empty((await api.GetAsync("vm.counters")).Body.Replace("{}", "", StringComparison.Ordinal));
        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
    }

    [KvmFact]
    public async Task ResizingABalloonThatDoesNotExistIsUpstreamsError()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Halt),
             "--serial", "tty", "--console", "off", "--memory", "size=128M"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        Assert.Equal(
            (500, """["Error from API","The VM could not be resized","Error from device manager","Missing virtio-balloon, can't proceed as expected"]"""),
            await api.PutAsync("vm.resize", """{"desired_vcpus":null,"desired_ram":null,"desired_balloon":1048576}"""));
        var remote = await RemoteBinary.RunAsync(["--api-socket", Socket, "resize", "--balloon", "1M"]);
        Assert.Equal(1, remote.ExitCode);
        Assert.Contains("Missing virtio-balloon, can't proceed as expected", remote.Stderr);

        // CPU and memory resizes of a booted VM are still refused.
        var (status, body) = await api.PutAsync("vm.resize", """{"desired_vcpus":2}""");
        Assert.Equal(500, status);
        Assert.Contains("not supported yet", body);
        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
    }

    private static async Task<long> MemoryActualSizeAsync(ApiSocketClient api)
    {
        var (status, body) = await api.GetAsync("vm.info");
        Assert.Equal(200, status);
        var match = MemoryActualSize().Match(body);
        Assert.True(match.Success, body);
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    [GeneratedRegex("\"memory_actual_size\":(\\d+)")]
    private static partial Regex MemoryActualSize();
}
