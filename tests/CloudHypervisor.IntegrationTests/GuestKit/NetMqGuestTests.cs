using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The net-mq guest against QEMU's multi-queue virtio-net (the reference) over a multi-queue TAP in a network
/// namespace of the test's own, with test_data/net/tap-peer.py on the host side: the same lines the VMM's test expects.
/// </summary>
public sealed class NetMqGuestTests
{
    [QemuFact]
    public async Task Q35_two_pairs_negotiated_and_frames_cross_on_the_second()
    {
        await using var ns = await NetNamespace.CreateAsync();
        var created = await ns.ExecAsync("ip", "tuntap", "add", "dev", "qmq0", "mode", "tap", "multi_queue");
        Assert.True(created.ExitCode == 0, created.ToString());
        await ns.ExecAsync("ip", "link", "set", "qmq0", "up");
        await using var peer = RunningProcess.Start("ip",
            ["netns", "exec", ns.Name, "python3", Path.Combine(RepoPaths.Root, "test_data", "net", "tap-peer.py"), "qmq0", "3", "40"]);

        var qemu = await ProcessRunner.RunAsync("ip",
            ["netns", "exec", ns.Name, "qemu-system-x86_64", "-M", "q35,accel=kvm", "-cpu", "host,-arch-capabilities", "-m", "128", "-smp", "2",
             "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot",
             "-kernel", GuestImages.PathOf(GuestImages.NetMq), "-append", "net-echo=3",
             "-netdev", "tap,id=n0,ifname=qmq0,script=no,downscript=no,queues=2",
             "-device", "virtio-net-pci,netdev=n0,mq=on,vectors=6,disable-legacy=on,mac=2e:00:00:00:00:02"],
            TimeSpan.FromSeconds(60));
        var peerResult = await peer.WaitForExitAsync(TimeSpan.FromSeconds(45));

        var context = $"QEMU:\n{qemu}\npeer:\n{peerResult}";
        var lines = qemu.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("net-mq: features=0x100420020 mq=1 ctrl-vq=1 max_virtqueue_pairs=2", lines);
        Assert.Contains("net-mq: vq-pairs-set=2 ctrl-queue=4 ack=ok", lines);
        Assert.Contains(lines, l => l.StartsWith("net-mq: mac=2e:00:00:00:00:02 sent=", StringComparison.Ordinal)
            && l.EndsWith(" on pair 1 received=0x88b5/26 on pair 1", StringComparison.Ordinal));
        Assert.Contains("net-mq: echoed=3 of 3 on pair 1 received-pair0=0 received-pair1=4", lines);
        Assert.Contains("net-mq: done", lines);
        Assert.True(peerResult.ExitCode == 0, context);
    }
}
