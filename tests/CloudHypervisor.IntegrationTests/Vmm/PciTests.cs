using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>PCI segment 0 as the `pci` test guest enumerates it on KVM, through 0xCF8/0xCFC and through ECAM.</summary>
public class PciTests
{
    /// <summary>Upstream's host bridge: Intel 8086:0D57, class 06/00/00 (host bridge), header type 0, no BARs.</summary>
    private const string HostBridge = "00:00.0 vendor=8086 device=0d57 class=060000 header=00 bar0=0x00000000";

    [KvmFact]
    public async Task GuestFindsUpstreamsHostBridgeAloneThroughThePorts()
    {
        var lines = await BootPciGuestAsync();

        Assert.Contains($"pci: {HostBridge}", lines);
        Assert.Contains("pci: functions=1", lines);
    }

    [KvmFact]
    public async Task GuestFindsTheSameHostBridgeThroughEcamAtTheMcfgBase()
    {
        var lines = await BootPciGuestAsync();

        Assert.Contains("pci: ecam base=0xe8000000", lines);
        Assert.Contains($"pci: ecam {HostBridge}", lines);
        Assert.Contains("pci: ecam functions=1", lines);
    }

    [KvmFact]
    public async Task BothMechanismsShareOneConfigSpaceWithReadOnlyIds()
    {
        var lines = await BootPciGuestAsync();

        Assert.Contains("pci: cfc sub-dword reads ok", lines);
        Assert.Contains("pci: vendor-id write ignored", lines);
        Assert.Contains("pci: command write ecam->cf8 ok, cf8->ecam ok", lines);
    }

    /// <summary>The VMM-independent lines of the guest's protocol match QEMU's q35 on the same checks.</summary>
    [QemuFact]
    public async Task ConfigMechanismChecksAgreeWithQemu()
    {
        var qemu = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Pci)) { Machine = QemuMachine.Q35 }, TimeSpan.FromSeconds(60));
        var ours = await BootPciGuestAsync();

        string[] checks = ["pci: cfc sub-dword reads ", "pci: vendor-id write ", "pci: command write "];
        foreach (var check in checks)
        {
            var expected = Assert.Single(qemu.LinesStartingWith(check));
            Assert.Contains(expected, ours);
        }
    }

    private static async Task<string[]> BootPciGuestAsync()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Pci, "pci", "--memory", "size=128M");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("pci: done", lines);
        return lines;
    }
}
