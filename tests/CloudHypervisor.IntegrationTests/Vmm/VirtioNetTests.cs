using System.Text.Json;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// virtio-net on KVM: the VMM runs inside a network namespace the test creates (nothing outside it
/// and loopback is touched), the `virtio` guest broadcasts a raw frame and echoes frames back, and
/// test_data/net/tap-peer.py, inside the same namespace, talks to it over an AF_PACKET socket on the TAP.
/// </summary>
public class VirtioNetTests
{
    private const string GuestMac = "2e:00:00:00:00:01";
    private const int Echoes = 3;

    [KvmFact]
    public async Task FramesCrossATapTheVmmCreatesInBothDirections()
    {
        await using var ns = await NetNamespace.CreateAsync();

        var (vmm, peer) = await RunAsync(ns, "chtap0",
            [VmmBinary.Path, .. GuestArguments(), "--net", $"tap=chtap0,mac={GuestMac},ip=192.168.249.1,mask=255.255.255.0,host_mac=2e:00:00:00:00:fe"]);

        AssertFramesCrossed(vmm, peer, expectedHostMac: "2e:00:00:00:00:fe");
        using var report = JsonDocument.Parse(peer.StandardOutput);
        Assert.Equal(["192.168.249.1/24"], report.RootElement.GetProperty("ipv4").EnumerateArray().Select(a => a.GetString()));
    }

    [KvmFact]
    public async Task FramesCrossATapFdTheCallerOpened()
    {
        await using var ns = await NetNamespace.CreateAsync();

        var (vmm, peer) = await RunAsync(ns, "chfd0",
            ["python3", Script("tap-open-exec.py"), "chfd0", VmmBinary.Path, .. GuestArguments(), "--net", $"fd=[{{fd}}],mac={GuestMac}"]);

        AssertFramesCrossed(vmm, peer, expectedHostMac: null);
    }

    [KvmFact]
    public async Task AnUnnamedTapIsCreatedAsVmtapN()
    {
        await using var ns = await NetNamespace.CreateAsync();

        var (vmm, peer) = await RunAsync(ns, "vmtap0", [VmmBinary.Path, .. GuestArguments(), "--net", $"mac={GuestMac}"]);

        AssertFramesCrossed(vmm, peer, expectedHostMac: null);
    }

    private static string[] GuestArguments() =>
        ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", $"net net-echo={Echoes}", "--serial", "tty", "--console", "off", "--memory", "size=128M"];

    private static string Script(string name) => Path.Combine(RepoPaths.Root, "test_data", "net", name);

    private static async Task<(ProcessResult Vmm, ProcessResult Peer)> RunAsync(NetNamespace ns, string tap, string[] command)
    {
        await using var peer = RunningProcess.Start("ip", ["netns", "exec", ns.Name, "python3", Script("tap-peer.py"), tap, Echoes.ToString(), "40"]);
        var vmm = await ProcessRunner.RunAsync("ip", ["netns", "exec", ns.Name, .. command], TimeSpan.FromSeconds(60));
        var peerResult = await peer.WaitForExitAsync(TimeSpan.FromSeconds(45));
        return (vmm, peerResult);
    }

    private static void AssertFramesCrossed(ProcessResult vmm, ProcessResult peer, string? expectedHostMac)
    {
        var context = $"VMM:\n{vmm}\npeer:\n{peer}";
        Assert.True(vmm.ExitCode == 0, context);
        var lines = vmm.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("virtio: devices=net", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"virtio: net mac={GuestMac} sent=", StringComparison.Ordinal) && l.EndsWith(" received=0x88b5/26", StringComparison.Ordinal));
        Assert.Contains($"virtio: net echoed={Echoes} of {Echoes}", lines);
        Assert.True(peer.ExitCode == 0, context);

        using var report = JsonDocument.Parse(peer.StandardOutput);
        var root = report.RootElement;
        Assert.Equal(GuestMac, root.GetProperty("guest_mac").GetString());
        Assert.Equal("ff:ff:ff:ff:ff:ff", root.GetProperty("hello_destination").GetString());
        Assert.Equal("guest-kit net hello", root.GetProperty("hello").GetString());
        var hostMac = root.GetProperty("host_mac").GetString();
        if (expectedHostMac is not null)
        {
            Assert.Equal(expectedHostMac, hostMac);
        }

        var echoes = root.GetProperty("echoes").EnumerateArray().ToArray();
        Assert.Equal(Echoes, echoes.Length);
        for (var i = 0; i < Echoes; i++)
        {
            Assert.Equal($"host-frame-{i + 1}", echoes[i].GetProperty("payload").GetString());
            Assert.Equal(hostMac, echoes[i].GetProperty("destination").GetString());
            Assert.Equal(GuestMac, echoes[i].GetProperty("source").GetString());
        }
    }
}

/// <summary>A network namespace of the test's own (<c>chtest-&lt;random&gt;</c>, IPv6 off so the kernel sends no chatter); deleted on dispose.</summary>
internal sealed class NetNamespace : IAsyncDisposable
{
    private NetNamespace(string name) => Name = name;

    public string Name { get; }

    public static async Task<NetNamespace> CreateAsync()
    {
        var name = $"chtest-{Guid.NewGuid().ToString("N")[..10]}";
        var created = await ProcessRunner.RunAsync("ip", ["netns", "add", name], TimeSpan.FromSeconds(10));
        Assert.True(created.ExitCode == 0, $"ip netns add failed (needs root and iproute2):\n{created}");
        var ns = new NetNamespace(name);
        await ns.ExecAsync("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        return ns;
    }

    public Task<ProcessResult> ExecAsync(params string[] command) =>
        ProcessRunner.RunAsync("ip", ["netns", "exec", Name, .. command], TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync() =>
        await ProcessRunner.RunAsync("ip", ["netns", "delete", Name], TimeSpan.FromSeconds(10));
}
