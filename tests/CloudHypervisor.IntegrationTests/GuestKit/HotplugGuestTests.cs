using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The hotplug guest under QEMU: it boots and finds no Cloud Hypervisor GED or PCI hotplug controller, which only
/// Cloud Hypervisor's DSDT has; the hotplug itself is exercised on KVM by Vmm/HotplugTests.
/// </summary>
public sealed class HotplugGuestTests
{
    [QemuFact]
    public async Task BootsAndFindsNoCloudHypervisorHotplugController()
    {
        await using var qemu = QemuRunner.Start(new QemuOptions(GuestImages.PathOf(GuestImages.Hotplug)));

        await qemu.WaitForSerialLineAsync("hotplug: ged none", TimeSpan.FromSeconds(20));

        Assert.False(qemu.HasExited, qemu.Describe());
        Assert.Equal(["hotplug: guest kit hotplug started", "hotplug: ged none"], qemu.SerialLines);
    }
}
