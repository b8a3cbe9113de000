using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The events guest under QEMU (the reference VMM): it boots, finds no Cloud Hypervisor GED and counts
/// the monitor's NMIs (which reach it through LVT LINT1, programmed as NMI as an OS does). The power
/// button needs Cloud Hypervisor's GED: see Api/PowerButtonAndNmiTests.
/// </summary>
public sealed class EventsGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [QemuFact]
    public async Task CountsEachMonitorNmiAndFindsNoGed()
    {
        await using var qemu = QemuRunner.Start(new QemuOptions(GuestImages.PathOf(GuestImages.Events)) { MonitorOnStdio = true });

        await qemu.WaitForSerialLineAsync("events: ready", Timeout);
        await qemu.MonitorAsync("nmi");
        await qemu.WaitForSerialLineAsync("events: nmi count=1", Timeout);
        await qemu.MonitorAsync("nmi");
        await qemu.WaitForSerialLineAsync("events: nmi count=2", Timeout);

        Assert.False(qemu.HasExited, qemu.Describe());
        Assert.Equal(
            ["events: guest kit events started", "events: ged none", "events: ready", "events: nmi count=1", "events: nmi count=2"],
            qemu.SerialLines);
    }
}
