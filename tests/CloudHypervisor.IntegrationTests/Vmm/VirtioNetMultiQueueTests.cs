using System.Text.Json;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// Multi-queue virtio-net on KVM, inside a network namespace of the test's own: with `num_queues=4` the `net-mq`
/// guest sees MQ with max_virtqueue_pairs=2, has VQ_PAIRS_SET 2 acknowledged on the control queue (queue 4), and
/// exchanges frames with test_data/net/tap-peer.py transmitting on the second pair (queue 3) of the multi-queue TAP.
/// </summary>
public class VirtioNetMultiQueueTests
{
    private const string GuestMac = "2e:00:00:00:00:02";
    private const int Echoes = 3;

    [KvmFact]
    public async Task TheGuestSeesTwoPairsAndFramesCrossOnTheSecond()
    {
        await using var ns = await NetNamespace.CreateAsync();

        var (vmm, peer) = await RunAsync(ns, "chmq0",
            [VmmBinary.Path, .. GuestArguments(), "--net", $"tap=chmq0,mac={GuestMac},num_queues=4,ip=192.168.250.1,mask=255.255.255.0"]);

        // A second queue of a TAP the VMM created attaches only if it was created IFF_MULTI_QUEUE.
        AssertTwoPairsCarriedTheFrames(vmm, peer);
    }

    [KvmFact]
    public async Task TwoQueueFdsTheCallerOpenedServeTheTwoPairs()
    {
        await using var ns = await NetNamespace.CreateAsync();

        var (vmm, peer) = await RunAsync(ns, "chmqfd0",
            ["python3", Script("tap-open-exec.py"), "--queues", "2", "chmqfd0", VmmBinary.Path, .. GuestArguments(),
             "--net", $"fd=[{{fds}}],mac={GuestMac},num_queues=4"]);

        AssertTwoPairsCarriedTheFrames(vmm, peer);
    }

    [KvmFact]
    public async Task AnExistingSingleQueueTapIsRefusedForSeveralPairs()
    {
        await using var ns = await NetNamespace.CreateAsync();
        var created = await ns.ExecAsync("ip", "tuntap", "add", "dev", "chsq0", "mode", "tap");
        Assert.True(created.ExitCode == 0, created.ToString());

        var vmm = await ns.ExecAsync([VmmBinary.Path, .. GuestArguments(), "--net", $"tap=chsq0,mac={GuestMac},num_queues=4"]);

        Assert.Equal(1, vmm.ExitCode);
        Assert.Contains("Error related to the multiqueue support (no support TAP side)", vmm.StandardError);
    }

    private static string[] GuestArguments() =>
        ["--kernel", GuestImages.PathOf(GuestImages.NetMq), "--cmdline", $"net-echo={Echoes}", "--serial", "tty", "--console", "off",
         "--memory", "size=128M", "--cpus", "boot=2"];

    private static async Task<(ProcessResult Vmm, ProcessResult Peer)> RunAsync(NetNamespace ns, string tap, string[] command)
    {
        await using var peer = RunningProcess.Start("ip", ["netns", "exec", ns.Name, "python3", Script("tap-peer.py"), tap, Echoes.ToString(), "40"]);
        var vmm = await ProcessRunner.RunAsync("ip", ["netns", "exec", ns.Name, .. command], TimeSpan.FromSeconds(60));
        return (vmm, await peer.WaitForExitAsync(TimeSpan.FromSeconds(45)));
    }

    private static void AssertTwoPairsCarriedTheFrames(ProcessResult vmm, ProcessResult peerResult)
    {

        var context = $"VMM:\n{vmm}\npeer:\n{peerResult}";
        Assert.True(vmm.ExitCode == 0, context);
        var lines = vmm.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("net-mq: features=", StringComparison.Ordinal) && l.EndsWith(" mq=1 ctrl-vq=1 max_virtqueue_pairs=2", StringComparison.Ordinal));
        Assert.Contains("net-mq: vq-pairs-set=2 ctrl-queue=4 ack=ok", lines);
        Assert.Contains(lines, l => l.StartsWith($"net-mq: mac={GuestMac} sent=", StringComparison.Ordinal)
            && l.EndsWith(" on pair 1 received=0x88b5/26 on pair 1", StringComparison.Ordinal));

        // The TAP steers the host's frames to the queue the guest's flow left by: the second pair's.
        Assert.Contains($"net-mq: echoed={Echoes} of {Echoes} on pair 1 received-pair0=0 received-pair1={Echoes + 1}", lines);
        Assert.True(peerResult.ExitCode == 0, context);

        using var report = JsonDocument.Parse(peerResult.StandardOutput);
        var root = report.RootElement;
        Assert.Equal(GuestMac, root.GetProperty("guest_mac").GetString());
        Assert.Equal("guest-kit net hello", root.GetProperty("hello").GetString());
        var echoes = root.GetProperty("echoes").EnumerateArray().ToArray();
        Assert.Equal(Echoes, echoes.Length);
        for (var i = 0; i < Echoes; i++)
        {
            Assert.Equal($"host-frame-{i + 1}", echoes[i].GetProperty("payload").GetString());
            Assert.Equal(GuestMac, echoes[i].GetProperty("source").GetString());
        }
    }

    private static string Script(string name) => Path.Combine(RepoPaths.Root, "test_data", "net", name);
}
