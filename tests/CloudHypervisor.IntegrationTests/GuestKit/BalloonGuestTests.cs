using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The balloon guest's polling driver against QEMU's modern-only virtio-balloon (the reference VMM):
/// it follows the targets the monitor's `balloon` command sets, inflating and then deflating, and the
/// pages it takes back read zeroed because QEMU discarded them. (QEMU always has a stats queue, so
/// its reporting queue is not where Cloud Hypervisor's is; free page reporting is checked on our VMM.)
/// </summary>
public sealed class BalloonGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [QemuFact]
    public async Task Q35_follows_the_monitor_targets_both_ways()
    {
        await using var qemu = QemuRunner.Start(new QemuOptions(GuestImages.PathOf(GuestImages.Balloon))
        {
            Machine = QemuMachine.Q35,
            MemoryMib = 256,
            CommandLine = "follow=2",
            MonitorOnStdio = true,
            ExtraArguments = ["-device", "virtio-balloon-pci,disable-legacy=on,deflate-on-oom=on"],
        });

        await qemu.WaitForSerialLineAsync("balloon: actual pages=0", Timeout);
        await qemu.MonitorAsync("balloon 192");
        await qemu.WaitForSerialLineAsync("balloon: actual pages=16384", Timeout);
        await qemu.MonitorAsync("balloon 224");
        await qemu.WaitForSerialLineAsync("balloon: done", Timeout);

        var lines = qemu.SerialLines;
        Assert.Contains(lines, l => l.StartsWith("balloon: features=0x100000004 ", StringComparison.Ordinal));
        Assert.Contains("balloon: target pages=16384", lines);
        Assert.Contains("balloon: target pages=8192", lines);
        Assert.Contains("balloon: deflated pages=8192 zeroed=8192", lines);
        Assert.Contains("balloon: actual pages=8192", lines);
    }
}
