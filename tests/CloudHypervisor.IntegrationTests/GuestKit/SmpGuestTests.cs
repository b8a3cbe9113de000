using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The smp guest under QEMU (the reference VMM): the BSP wakes each application processor with
/// INIT-SIPI-SIPI, every AP reaches long mode through the real-mode trampoline and reports itself.
/// On q35 SeaBIOS has already woken and parked the APs, so the guest's INIT must reset them.
/// </summary>
public sealed class SmpGuestTests
{
    [QemuFact]
    public async Task Microvm_every_ap_comes_online_through_init_sipi_sipi()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Smp)) { Cpus = 4 }, TimeSpan.FromSeconds(30));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        Assert.Single(result.LinesStartingWith("smp: guest kit smp started"));
        GuestAssert.HasLine(result, "smp: bsp apic=0 mode=xapic");
        GuestAssert.HasLine(result, "smp: cpus enabled=4 online-capable=0");
        GuestAssert.HasLine(result, "smp: enabled-apic-ids=0,1,2,3");
        Assert.Equal(
            ["smp: cpu apic=1 online", "smp: cpu apic=2 online", "smp: cpu apic=3 online"],
            result.LinesStartingWith("smp: cpu ").Order(StringComparer.Ordinal));
        GuestAssert.HasLine(result, "smp: online=4 of 4");
        GuestAssert.EndsWithDone(result, "smp");
    }

    [QemuFact]
    public async Task Q35_aps_parked_by_the_firmware_are_restarted()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Smp)) { Machine = QemuMachine.Q35, Cpus = 2 },
            TimeSpan.FromSeconds(60));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        Assert.Equal(["smp: cpu apic=1 online"], result.LinesStartingWith("smp: cpu "));
        GuestAssert.HasLine(result, "smp: online=2 of 2");
        GuestAssert.EndsWithDone(result, "smp");
    }

    [QemuFact]
    public async Task A_single_cpu_starts_nothing()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Smp)), TimeSpan.FromSeconds(30));

        GuestAssert.ShutDownCleanly(result);
        Assert.Empty(result.LinesStartingWith("smp: cpu "));
        GuestAssert.HasLine(result, "smp: online=1 of 1");
        GuestAssert.EndsWithDone(result, "smp");
    }
}
