using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The benchmark guest's drivers (many requests in flight, several descriptors each, notifications
/// suppressed by the device honoured) against QEMU's modern-only virtio-blk and multi-queue virtio-net
/// (over a multi-queue TAP in a network namespace of the test's own), so that scripts/bench measures a
/// driver known to be right.
/// </summary>
public sealed partial class VbenchGuestTests : IDisposable
{
    private const int DiskBytes = 4 << 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-vbench-");

    public void Dispose() => directory.Delete(recursive: true);

    [QemuTheory]
    [InlineData("blk-randread bs=4096 qd=32 count=3000", 3000, 4096)]
    [InlineData("blk-write bs=65536 qd=4 count=200", 200, 65536)]
    public async Task Q35_every_request_completes_without_error(string cmdline, int requests, int blockSize)
    {
        var disk = Path.Combine(directory.FullName, "disk.raw");
        await File.WriteAllBytesAsync(disk, new byte[DiskBytes]);

        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Vbench))
            {
                Machine = QemuMachine.Q35,
                CommandLine = cmdline,
                ExtraArguments = ["-drive", $"if=none,id=d0,file={disk},format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        AssertCompleted(result.LinesStartingWith("vbench: blk"), requests, blockSize, result.ToString());
        GuestAssert.EndsWithDone(result, "vbench");
    }

    [QemuTheory]
    [InlineData("net-tx-mq")]
    [InlineData("net-rx-mq")]
    public async Task Q35_multi_queue_net_every_frame_completes_and_both_pairs_carry_frames(string mode)
    {
        await using var ns = await VbenchNetTests.CreateNamespaceWithMultiQueueTapAsync();
        await using var blaster = mode == "net-rx-mq" ? await VbenchNetTests.StartTapBlastAsync(ns, directory) : null;

        var qemu = await ProcessRunner.RunAsync("ip",
            ["netns", "exec", ns.Name, "qemu-system-x86_64", "-M", "q35,accel=kvm", "-cpu", "host,-arch-capabilities", "-m", "128",
             "-smp", "2", "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot",
             "-kernel", GuestImages.PathOf(GuestImages.Vbench), "-append", $"{mode} pairs=2 frame=64 count={VbenchNetTests.Frames}",
             "-netdev", $"tap,id=n0,ifname={VbenchNetTests.Tap},script=no,downscript=no,vhost=off,queues=2",
             "-device", "virtio-net-pci,netdev=n0,mq=on,vectors=6,disable-legacy=on"],
            Timeout);

        Assert.True(qemu.ExitCode == 0, qemu.ToString());
        VbenchNetTests.AssertBothPairsCarriedFrames(qemu.StandardOutput.Split('\n', StringSplitOptions.TrimEntries), mode, qemu.ToString());
    }

    /// <summary>The result line says every request completed, none with an error status, in measurable time.</summary>
    public static void AssertCompleted(IReadOnlyList<string> resultLines, int requests, int blockSize, string context)
    {
        var line = Assert.Single(resultLines);
        var match = ResultLine().Match(line);
        Assert.True(match.Success, context);
        Assert.Equal(requests.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["requests"].Value);
        Assert.Equal(((long)requests * blockSize).ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["bytes"].Value);
        Assert.Equal("0", match.Groups["errors"].Value);
        Assert.NotEqual("0", match.Groups["cycles"].Value);
    }

    [GeneratedRegex(@"requests=(?<requests>\d+) bytes=(?<bytes>\d+) errors=(?<errors>\d+) tsc-cycles=(?<cycles>\d+)$")]
    private static partial Regex ResultLine();
}
