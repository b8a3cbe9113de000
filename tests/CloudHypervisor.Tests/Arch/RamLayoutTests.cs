using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Tests.Arch;

/// <summary>Memory zones placed back to back around the 32-bit device hole, in zone order.</summary>
public class RamLayoutTests
{
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30, Page = 4096;

    [Fact]
    public void SmallZonesSitBackToBackFromZero()
    {
        var slices = RamLayout.Place([(256 * MiB, Page), (256 * MiB, Page)]);
        Assert.Equal([new ZoneSlice(0, 0, 256 * MiB, 0), new ZoneSlice(1, 256 * MiB, 256 * MiB, 0)], slices);
    }

    [Fact]
    public void AZoneCrossingTheHoleIsSplitWithItsFileOffsetCarriedOver()
    {
        // Upstream's own example: zones of 1 GiB and 4 GiB make 0-1G, 1G-3G and 4G-6G.
        var slices = RamLayout.Place([(1 * GiB, Page), (4 * GiB, Page)]);
        Assert.Equal(
            [
                new ZoneSlice(0, 0, 1 * GiB, 0),
                new ZoneSlice(1, 1 * GiB, 2 * GiB, 0),
                new ZoneSlice(1, 4 * GiB, 2 * GiB, 2 * GiB),
            ],
            slices);
    }

    [Fact]
    public void AZoneThatEndsAtTheHoleLeavesTheNextZoneAbove4GiB()
    {
        var slices = RamLayout.Place([(3 * GiB, Page), (1 * GiB, Page)]);
        Assert.Equal([new ZoneSlice(0, 0, 3 * GiB, 0), new ZoneSlice(1, 4 * GiB, 1 * GiB, 0)], slices);
    }

    [Fact]
    public void OneZoneOf5GiBMatchesTheLayoutWithoutZones()
    {
        var slices = RamLayout.Place([(5 * GiB, Page)]);
        Assert.Equal([new ZoneSlice(0, 0, 3 * GiB, 0), new ZoneSlice(0, 4 * GiB, 2 * GiB, 3 * GiB)], slices);
    }

    [Fact]
    public void HugePageZonesUseWholeHugePagesBelowTheHole()
    {
        // 3 GiB - 2 MiB is free below the hole: a 1 GiB-page zone only fits two pages there.
        var slices = RamLayout.Place([(2 * MiB, Page), (2 * GiB, GiB)]);
        Assert.Equal([new ZoneSlice(0, 0, 2 * MiB, 0), new ZoneSlice(1, 2 * MiB, 2 * GiB, 0)], slices);

        slices = RamLayout.Place([(2 * MiB, Page), (3 * GiB, GiB)]);
        Assert.Equal(
            [
                new ZoneSlice(0, 0, 2 * MiB, 0),
                new ZoneSlice(1, 2 * MiB, 2 * GiB, 0),
                new ZoneSlice(1, 4 * GiB, 1 * GiB, 2 * GiB),
            ],
            slices);
    }
}
