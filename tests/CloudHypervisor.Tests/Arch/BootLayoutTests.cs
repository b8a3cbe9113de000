using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Tests.Arch;

public class BootLayoutTests
{
    [Fact]
    public void BootCodeSegmentIsFlat32BitCode()
    {
        var cs = Gdt.ToSegment(Gdt.BootEntries[1], Gdt.CodeSelector);
        Assert.Equal(0x00CF9B000000FFFFUL, Gdt.BootEntries[1]);
        Assert.Equal(0x00CF93000000FFFFUL, Gdt.BootEntries[2]);
        Assert.Equal(0x00008B0000000067UL, Gdt.BootEntries[3]);
        Assert.Equal(0UL, cs.Base);
        Assert.Equal(0xFFFF_FFFFu, cs.Limit);
        Assert.Equal(0xB, cs.Type);
        Assert.Equal(1, cs.Db);
        Assert.Equal(1, cs.G);
        Assert.Equal(1, cs.Present);
        Assert.Equal(0, cs.Unusable);
    }

    [Fact]
    public void RamAbove3GiBMovesAbove4GiB()
    {
        Assert.Equal([(0UL, 512UL << 20)], Layout.RamRanges(512UL << 20));
        Assert.Equal([(0UL, 3UL << 30), (4UL << 30, 2UL << 30)], Layout.RamRanges(5UL << 30));
    }

    [Fact]
    public void MemoryMapFollowsUpstreamOrder()
    {
        using var memory = GuestMemory.Create(Layout.RamRanges(5UL << 30), new GuestMemoryOptions());
        var map = MemoryMapEntry.Build(memory);
        Assert.Equal(
            [
                new MemoryMapEntry(0, 0xA0000, MemoryType.Ram),
                new MemoryMapEntry(0x100000, (3UL << 30) - 0x100000, MemoryType.Ram),
                new MemoryMapEntry(4UL << 30, 2UL << 30, MemoryType.Ram),
                new MemoryMapEntry(0xE800_0000, 0x1000_0000, MemoryType.Reserved),
            ],
            map);
    }

    [Fact]
    public void GuestMemoryRejectsRangesOutsideRam()
    {
        using var memory = GuestMemory.Create(Layout.RamRanges(16UL << 20), new GuestMemoryOptions());
        Assert.True(memory.TryGetSpan(0, 4096, out _));
        Assert.False(memory.TryGetSpan((16UL << 20) - 8, 16, out _));
        Assert.False(memory.TryGetSpan(ulong.MaxValue - 4, 8, out _));
        Assert.Throws<GuestMemoryException>(() => memory.GetSpan(32UL << 20, 1));
    }

    [Theory]
    [InlineData(1, 2, 1, 1, 1, 1u)]
    [InlineData(2, 2, 1, 1, 3, 3u)]
    [InlineData(2, 3, 1, 2, 6, 8u)]
    [InlineData(1, 4, 2, 1, 5, 5u)]
    [InlineData(1, 4, 2, 1, 6, 6u)]
    [InlineData(1, 3, 2, 1, 4, 5u)]
    public void X2ApicIdsPackTopologyFields(int threads, int cores, int dies, int packages, int index, uint expected) =>
        Assert.Equal(expected, new CpuTopology(threads, cores, dies, packages).X2ApicId(index));
}
