using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Contracts;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Tests.Hypervisor;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Vmm;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Tests.Vmm;

/// <summary>Guest RAM from `--memory` and `--memory-zone`: layout, KVM slots, backing and upstream's errors.</summary>
public class MemoryManagerTests
{
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    [Fact]
    public void PlainMemoryIsOneZoneNamedMem0()
    {
        var vm = new SlotRecordingVm();
        using var memory = MemoryManager.Create(new MemoryConfig { Size = 128 * MiB }, vm);

        var region = Assert.Single(memory.Regions);
        Assert.Equal("mem0", region.Zone);
        Assert.Equal([(0u, 0UL, 128 * MiB)], vm.Slots);
    }

    [Fact]
    public void EachZoneRegionGetsItsOwnSlotInGuestOrder()
    {
        var vm = new SlotRecordingVm();
        using var memory = MemoryManager.Create(Zones(Zone("mem0", 256 * MiB), Zone("mem1", 256 * MiB)), vm);

        Assert.Equal(["mem0", "mem1"], memory.Regions.Select(r => r.Zone));
        Assert.Equal([(0u, 0UL, 256 * MiB), (1u, 256 * MiB, 256 * MiB)], vm.Slots);
    }

    [Fact]
    public void AZoneSpanningThe32BitHoleBecomesTwoRegions()
    {
        var vm = new SlotRecordingVm();
        using var memory = MemoryManager.Create(Zones(Zone("mem0", 1 * GiB), Zone("mem1", 4 * GiB)), vm);

        Assert.Equal([(0u, 0UL, 1 * GiB), (1u, 1 * GiB, 2 * GiB), (2u, 4 * GiB, 2 * GiB)], vm.Slots);
        Assert.Equal(["mem0", "mem1", "mem1"], memory.Regions.Select(r => r.Zone));
    }

    [Fact]
    public void FileBackedZoneSplitAroundTheHoleMapsTheFileAtTheRightOffsets()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var file = File.OpenWrite(path))
            {
                file.SetLength((long)(8 * MiB));
            }

            var config = Zones(Zone("low", (3 * GiB) - (4 * MiB)), Zone("file", 8 * MiB, z => { z.File = path; z.Shared = true; }));
            using (var memory = MemoryManager.Create(config, new SlotRecordingVm()))
            {
                memory.Write((3 * GiB) - (4 * MiB), "below"u8);
                memory.Write(4 * GiB, "above"u8);
            }

            var bytes = File.ReadAllBytes(path);
            Assert.Equal("below"u8.ToArray(), bytes[..5]);
            Assert.Equal("above"u8.ToArray(), bytes[(int)(4 * MiB)..((int)(4 * MiB) + 5)]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PrivateFileBackedZoneReadsTheFileButNeverWritesIt()
    {
        var path = Path.GetTempFileName();
        try
        {
            var content = new byte[4 * MiB];
            "seed"u8.CopyTo(content);
            File.WriteAllBytes(path, content);

            using (var memory = MemoryManager.Create(Zones(Zone("mem0", 4 * MiB, z => z.File = path)), new SlotRecordingVm()))
            {
                var seen = new byte[4];
                memory.Read(0, seen);
                Assert.Equal("seed"u8.ToArray(), seen);
                memory.Write(0, "guest"u8);
            }

            Assert.Equal("seed"u8.ToArray(), File.ReadAllBytes(path)[..4]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void HostNumaNodeBindsTheZoneWithMpolBind()
    {
        using var memory = MemoryManager.Create(Zones(Zone("mem0", 4 * MiB, z => z.HostNumaNode = 0)), new SlotRecordingVm());
        Span<ulong> mask = stackalloc ulong[16];
        Assert.Equal(0, Libc.GetMempolicy(out var mode, mask, memory.Regions[0].Host));
        Assert.Equal(Libc.MpolBind, mode);
        Assert.Equal(1UL, mask[0]);
    }

    [Fact]
    public void AnAbsentHostNumaNodeFailsWithUpstreamsError()
    {
        var error = Assert.Throws<VmmException>(() => MemoryManager.Create(Zones(Zone("mem0", 4 * MiB, z => z.HostNumaNode = 1000)), new SlotRecordingVm()));
        Assert.Equal("Memory manager error", error.Chain()[0]);
        Assert.Equal("Failed applying NUMA memory policy", error.Chain()[1]);
        Assert.Contains("os error", error.Chain()[2]);
    }

    [Theory]
    [MemberData(nameof(InvalidConfigurations))]
    public void InvalidConfigurationsFailWithUpstreamsLeaf(MemoryConfig config, string leaf)
    {
        var vm = new SlotRecordingVm();
        var error = Assert.Throws<VmmException>(() => MemoryManager.Create(config, vm));
        Assert.Equal(["Memory manager error", leaf], error.Chain());
        Assert.Empty(vm.Slots);
    }

    public static TheoryData<MemoryConfig, string> InvalidConfigurations() => new()
    {
        { new MemoryConfig { Size = 0 }, "No memory zones found" },
        { new MemoryConfig { Size = 0, Zones = [] }, "No memory zones found" },
        { new MemoryConfig { Size = 512 * MiB, Zones = [Zone("mem1", 512 * MiB)] }, "Memory configuration is not valid" },
        { new MemoryConfig { Size = 512 * MiB, HotpluggedSize = MiB }, "Memory configuration is not valid" },
        { Zones(Zone("mem0", 5000)), "Memory size is misaligned with default page size or its hugepage size" },
        { Zones(Zone("mem0", MiB, z => { z.Shared = true; z.File = "/dev/null"; z.HostNumaNode = 0; })), "Invalid to try applying a NUMA policy to a memory zone that is memory mapped with MAP_SHARED" },
        { Zones(Zone("mem0", MiB, z => z.HotplugSize = 128 * MiB)), "Invalid hotplug method associated with memory zones resizing capability" },
    };

    [Fact]
    public void MemoryHotplugIsStillRefusedAsNotSupportedYet()
    {
        var error = Assert.Throws<VmmException>(() => MemoryManager.Create(new MemoryConfig { Size = 512 * MiB, HotplugSize = GiB }, new SlotRecordingVm()));
        Assert.Equal(["Memory manager error", "not supported yet: memory hotplug (--memory hotplug_size)"], error.Chain());

        var zoned = Zones(Zone("mem0", MiB, z => z.HotplugSize = 128 * MiB));
        zoned.HotplugMethod = HotplugMethod.VirtioMem;
        error = Assert.Throws<VmmException>(() => MemoryManager.Create(zoned, new SlotRecordingVm()));
        Assert.Equal("not supported yet: virtio-mem (hotplug_size on memory zone mem0)", error.Chain()[1]);
    }

    [Fact]
    public void BackingFileProblemsAreReported()
    {
        var dir = Directory.CreateTempSubdirectory("zone-");
        try
        {
            var error = Assert.Throws<VmmException>(() => MemoryManager.Create(Zones(Zone("mem0", MiB, z => z.File = dir.FullName)), new SlotRecordingVm()));
            Assert.Equal(["Memory manager error", "Using a directory as a backing file for memory is not supported"], error.Chain());

            var missing = Path.Combine(dir.FullName, "missing");
            error = Assert.Throws<VmmException>(() => MemoryManager.Create(Zones(Zone("mem0", MiB, z => z.File = missing)), new SlotRecordingVm()));
            Assert.Equal(["Memory manager error", "Failed to create shared file", "No such file or directory (os error 2)"], error.Chain());

            var small = Path.Combine(dir.FullName, "small");
            File.WriteAllBytes(small, new byte[4096]);
            error = Assert.Throws<VmmException>(() => MemoryManager.Create(Zones(Zone("mem0", MiB, z => z.File = small)), new SlotRecordingVm()));
            Assert.Equal("Error from region creation", error.Chain()[1]);
            Assert.Contains("goes past the end", error.Chain()[2]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void NumaNodesCollectTheRegionsOfTheirZonesAndTheX2ApicIdsOfTheirCpus()
    {
        using var memory = MemoryManager.Create(Zones(Zone("mem0", 1 * GiB), Zone("mem1", 4 * GiB)), new SlotRecordingVm());
        var nodes = GuestNumaNodes.Build(
            [
                new NumaConfig { GuestNumaId = 0, Cpus = [0], MemoryZones = ["mem0"] },
                new NumaConfig { GuestNumaId = 1, Cpus = [1, 2], MemoryZones = ["mem1"], Distances = [new NumaDistance { Destination = 0, Distance = 20 }] },
            ],
            memory,
            cpu => (uint)cpu * 2);

        Assert.Equal([(0UL, 1 * GiB)], nodes[0].Memory);
        Assert.Equal([(1 * GiB, 2 * GiB), (4 * GiB, 2 * GiB)], nodes[1].Memory);
        Assert.Equal([2u, 4u], nodes[1].X2ApicIds);
        Assert.Equal(20, nodes[1].Distances[0]);
    }

    [Theory]
    [InlineData("unknown-zone")]
    [InlineData("unknown-destination")]
    [InlineData("duplicate-node")]
    [InlineData("duplicate-destination")]
    public void InconsistentNumaConfigurationIsInvalid(string problem)
    {
        using var memory = MemoryManager.Create(Zones(Zone("mem0", 4 * MiB)), new SlotRecordingVm());
        NumaDistance To(uint node) => new() { Destination = node, Distance = 20 };
        List<NumaConfig> configs = problem switch
        {
            "unknown-zone" => [new NumaConfig { GuestNumaId = 0, MemoryZones = ["nope"] }],
            "unknown-destination" => [new NumaConfig { GuestNumaId = 0, Distances = [To(5)] }],
            "duplicate-node" => [new NumaConfig { GuestNumaId = 0 }, new NumaConfig { GuestNumaId = 0 }],
            _ => [new NumaConfig { GuestNumaId = 0, Distances = [To(1), To(1)] }, new NumaConfig { GuestNumaId = 1 }],
        };

        var error = Assert.Throws<VmmException>(() => GuestNumaNodes.Build(configs, memory, cpu => (uint)cpu));
        Assert.Equal(["Invalid NUMA configuration"], error.Chain());
    }

    private static MemoryConfig Zones(params MemoryZoneConfig[] zones) => new() { Size = 0, Zones = [.. zones] };

    private static MemoryZoneConfig Zone(string id, ulong size, Action<MemoryZoneConfig>? configure = null)
    {
        var zone = new MemoryZoneConfig { Id = id, Size = size };
        configure?.Invoke(zone);
        return zone;
    }

    private sealed class SlotRecordingVm : UnsupportedVm
    {
        public List<(uint Slot, ulong Start, ulong Size)> Slots { get; } = [];

        public override void SetUserMemoryRegion(uint slot, ulong guestAddress, ulong size, nint hostAddress, bool readOnly = false) =>
            Slots.Add((slot, guestAddress, size));
    }
}
