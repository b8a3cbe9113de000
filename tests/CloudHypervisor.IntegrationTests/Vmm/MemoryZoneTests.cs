using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// `--memory-zone` and `--numa` on KVM: the guest kit's numa guest prints the memory map it was
/// handed and what SRAT and SLIT say, and the static binary must have laid RAM out as upstream.
/// </summary>
public class MemoryZoneTests
{
    private const string NumaGuest = "numa";

    [KvmFact]
    public async Task TwoZonesOnTwoNodesGiveTheGuestSratAndSlit()
    {
        var result = await VmmBinary.BootAsync(NumaGuest, "numa",
            "--memory", "size=0",
            "--memory-zone", "id=mem0,size=256M", "--memory-zone", "id=mem1,size=256M",
            "--cpus", "boot=2",
            "--numa", "guest_numa_id=0,cpus=[0],memory_zones=mem0",
            "--numa", "guest_numa_id=1,cpus=[1],memory_zones=mem1,distances=[0@20]");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = Lines(result.StandardOutput);
        // The two zones touch, so the guest sees one RAM run, as with --memory size=512M.
        Assert.Equal(
            [
                "numa: e820 base=0x0 size=0xa0000 type=1",
                "numa: e820 base=0x100000 size=0x1ff00000 type=1",
                "numa: e820 base=0xe8000000 size=0x10000000 type=2",
            ],
            lines.Where(l => l.StartsWith("numa: e820 ", StringComparison.Ordinal)));
        Assert.Contains("numa: srat rev=3 checksum=ok", lines);
        Assert.Equal(
            [
                "numa: mem base=0x0 size=0x10000000 node=0",
                "numa: cpu apic=0 node=0",
                "numa: mem base=0x10000000 size=0x10000000 node=1",
                "numa: cpu apic=1 node=1",
            ],
            lines.Where(l => l.StartsWith("numa: mem ", StringComparison.Ordinal) || l.StartsWith("numa: cpu ", StringComparison.Ordinal)));
        Assert.Contains("numa: slit rev=1 checksum=ok", lines);
        Assert.Equal(
            ["numa: distance 0 0 = 10", "numa: distance 0 1 = 20", "numa: distance 1 0 = 20", "numa: distance 1 1 = 10"],
            lines.Where(l => l.StartsWith("numa: distance ", StringComparison.Ordinal)));
        Assert.Contains("numa: done", lines);
    }

    [KvmFact]
    public async Task AZoneSpanningThe32BitHoleIsSplitAndBothPartsBelongToItsNode()
    {
        var result = await VmmBinary.BootAsync(NumaGuest, "numa",
            "--memory", "size=0",
            "--memory-zone", "id=mem0,size=1G", "--memory-zone", "id=mem1,size=4G",
            "--numa", "guest_numa_id=0,cpus=[0],memory_zones=mem0",
            "--numa", "guest_numa_id=1,memory_zones=mem1,distances=[0@32]");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = Lines(result.StandardOutput);
        Assert.Equal(
            [
                "numa: e820 base=0x0 size=0xa0000 type=1",
                "numa: e820 base=0x100000 size=0xbff00000 type=1",
                "numa: e820 base=0x100000000 size=0x80000000 type=1",
                "numa: e820 base=0xe8000000 size=0x10000000 type=2",
            ],
            lines.Where(l => l.StartsWith("numa: e820 ", StringComparison.Ordinal)));
        Assert.Equal(
            [
                "numa: mem base=0x0 size=0x40000000 node=0",
                "numa: mem base=0x40000000 size=0x80000000 node=1",
                "numa: mem base=0x100000000 size=0x80000000 node=1",
            ],
            lines.Where(l => l.StartsWith("numa: mem ", StringComparison.Ordinal)));
        Assert.Contains("numa: distance 0 1 = 32", lines);
        Assert.Contains("numa: distance 1 0 = 32", lines);
    }

    [KvmFact]
    public async Task WithoutNumaThereIsNoSratOrSlit()
    {
        var result = await VmmBinary.BootAsync(NumaGuest, "numa",
            "--memory", "size=0", "--memory-zone", "id=mem0,size=128M", "--memory-zone", "id=mem1,size=128M");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = Lines(result.StandardOutput);
        Assert.Contains("numa: e820 base=0x100000 size=0xff00000 type=1", lines);
        Assert.Contains("numa: srat none", lines);
        Assert.Contains("numa: slit none", lines);
    }

    /// <summary>
    /// A shared file-backed zone is the guest's RAM: the ACPI tables the VMM writes at 0xA0000 land
    /// in the file. The second zone is bound to host node 0 and prefaulted.
    /// </summary>
    [KvmFact]
    public async Task SharedFileBackedZoneHoldsTheGuestsMemory()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.OpenWrite(path))
            {
                file.SetLength(64L << 20);
            }

            var result = await VmmBinary.BootAsync(GuestImages.Hello, "file-zone",
                "--memory", "size=0",
                "--memory-zone", $"id=mem0,size=64M,file={path},shared=on",
                "--memory-zone", "id=mem1,size=64M,host_numa_node=0,prefault=on");

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("hello: mem base=0x100000 size=0x7f00000 type=1", result.StandardOutput);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal("RSD PTR "u8.ToArray(), bytes[0xA0000..0xA0008]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [KvmFact]
    public async Task SizeZeroWithoutZonesFailsWithUpstreamsChain()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "x", "--memory", "size=0");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Memory manager error\n", result.StandardError);
        Assert.Contains("No memory zones found\n", result.StandardError);
    }

    [KvmFact]
    public async Task ANodeNamingAnUnknownZoneIsAnInvalidNumaConfiguration()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "x",
            "--memory", "size=0", "--memory-zone", "id=mem0,size=128M",
            "--numa", "guest_numa_id=0,memory_zones=mem9");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Invalid NUMA configuration\n", result.StandardError);
        Assert.Contains("Unknown memory zone 'mem9'", result.StandardError);
    }

    [KvmTheory]
    [InlineData(new[] { "--memory", "size=512M,hotplug_size=1G" }, "not supported yet: memory hotplug (--memory hotplug_size)")]
    public async Task MemoryHotplugIsStillRefused(string[] options, string error)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "x", options);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(error, result.StandardError);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.TrimEntries);
}
