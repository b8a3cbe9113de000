using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class PciGuestTests
{
    [QemuFact]
    public async Task Q35_bus_0_lists_the_host_bridge_and_counts_functions()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Pci)) { Machine = QemuMachine.Q35 }, TimeSpan.FromSeconds(60));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLineStartingWith(result, "pci: 00:00.0 vendor=8086 device=29c0 class=060000 ");
        // ICH9 LPC bridge, multi-function device 31.
        GuestAssert.HasLineStartingWith(result, "pci: 00:1f.0 vendor=8086 device=2918 class=060100 ");
        var functions = result.LinesStartingWith("pci: 00:").Count;
        GuestAssert.HasLine(result, $"pci: functions={functions}");
        GuestAssert.EndsWithDone(result, "pci");
    }
}
