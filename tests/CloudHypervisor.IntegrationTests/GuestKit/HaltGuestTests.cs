using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class HaltGuestTests
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(20);

    [QemuFact]
    public async Task Stays_halted_survives_an_nmi_and_announces_each_boot()
    {
        await using var qemu = QemuRunner.Start(new QemuOptions(GuestImages.PathOf(GuestImages.Halt))
        {
            Cpus = 2,
            MonitorOnStdio = true,
            NoReboot = false,
        });

        await qemu.WaitForSerialLineAsync("halt: ready", BootTimeout);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(qemu.HasExited, qemu.Describe());

        await qemu.MonitorAsync("nmi");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(qemu.HasExited, qemu.Describe());
        Assert.DoesNotContain(qemu.SerialLines, l => l.StartsWith("exception:", StringComparison.Ordinal));

        await qemu.MonitorAsync("system_reset");
        await qemu.WaitForSerialLineAsync("halt: ready", BootTimeout, count: 2);
        Assert.False(qemu.HasExited, qemu.Describe());
        Assert.Equal(["halt: ready", "halt: ready"], qemu.SerialLines);
    }
}
