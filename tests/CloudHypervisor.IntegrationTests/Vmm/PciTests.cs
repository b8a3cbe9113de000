using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>PCI segment 0 as the `pci` test guest enumerates it on KVM, through 0xCF8/0xCFC and through ECAM.</summary>
public class PciTests
{
    /// <summary>Upstream's host bridge: Intel 8086:0D57, class 06/00/00 (host bridge), header type 0, no BARs.</summary>
    private const string HostBridge = "00:00.0 vendor=8086 device=0d57 class=060000 header=00 bar0=0x00000000";

    /// <summary>
    /// Upstream's virtio-rng: 1AF4:1044, class FF/FF, in the first free slot (the guest kit boots with
    /// `--console off`), its 64-bit BAR 0 at the top of the 64-bit window (low dword 0xFF80_0000, type bits 0b100).
    /// </summary>
    private const string VirtioRng = "00:01.0 vendor=1af4 device=1044 class=ffff00 header=00 bar0=0xff800004";

    [KvmFact]
    public async Task GuestFindsUpstreamsHostBridgeAndVirtioRngThroughThePorts()
    {
        var lines = await BootPciGuestAsync();

        Assert.Contains($"pci: {HostBridge}", lines);
        Assert.Contains($"pci: {VirtioRng}", lines);
        Assert.Contains("pci: functions=2", lines);
    }

    /// <summary>With a virtio console configured, upstream gives it slot 1 (and the first BAR) and the rng slot 2.</summary>
    [KvmFact]
    public async Task WithAVirtioConsoleTheConsoleTakesSlotOneAndTheRngSlotTwo()
    {
        var result = await VmmBinary.RunAsync(
            ["--kernel", GuestImages.PathOf(GuestImages.Pci), "--cmdline", "pci", "--serial", "tty", "--console", "null", "--memory", "size=128M"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("pci: 00:01.0 vendor=1af4 device=1043 class=ffff00 header=00 bar0=0xff800004", lines);
        Assert.Contains("pci: 00:02.0 vendor=1af4 device=1044 class=ffff00 header=00 bar0=0xff000004", lines);
        Assert.Contains("pci: functions=3", lines);
    }

    [KvmFact]
    public async Task GuestFindsTheSameHostBridgeThroughEcamAtTheMcfgBase()
    {
        var lines = await BootPciGuestAsync();

        Assert.Contains("pci: ecam base=0xe8000000", lines);
        Assert.Contains($"pci: ecam {HostBridge}", lines);
        Assert.Contains($"pci: ecam {VirtioRng}", lines);
        Assert.Contains("pci: ecam functions=2", lines);
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

    /// <summary>
    /// `--platform num_pci_segments=2`: the MCFG lists segment 1's ECAM slice (0xE810_0000); a disk placed
    /// there with `pci_segment=1` takes its slot 0 (no host bridge outside segment 0) and a 64-bit BAR at the
    /// top of segment 1's half of the 64-bit area; segment 0 keeps its host bridge and the rng. Each segment
    /// belongs to its own NUMA node (`--numa pci_segments`, the host bridges' <c>_PXM</c>).
    /// </summary>
    [KvmFact]
    public async Task ADiskOnSegmentOneAppearsInThatSegmentsEcamSlice()
    {
        var disk = Path.Combine(Path.GetTempPath(), $"ch-seg-{Guid.NewGuid():N}.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20]);
        try
        {
            var result = await VmmBinary.BootAsync(GuestImages.Pci, "pci", "--memory", "size=128M", "--cpus", "boot=2",
                "--platform", "num_pci_segments=2", "--disk", $"path={disk},pci_segment=1",
                "--numa", "guest_numa_id=0,cpus=[0],pci_segments=[0]", "--numa", "guest_numa_id=1,cpus=[1],pci_segments=[1]");

            Assert.True(result.ExitCode == 0, result.ToString());
            var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains($"pci: {HostBridge}", lines);
            Assert.Contains($"pci: {VirtioRng}", lines);
            Assert.Contains("pci: segment=1 ecam base=0xe8100000", lines);
            Assert.Contains("pci: seg1 00:00.0 vendor=1af4 device=1042 class=018000 header=00 bar0=0xff800004", lines);
            Assert.Contains("pci: segment=1 functions=1", lines);
        }
        finally
        {
            File.Delete(disk);
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
