using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Memory;

/// <summary>One piece of a memory zone placed in guest-physical RAM.</summary>
public readonly record struct ZoneSlice(int Zone, ulong Start, ulong Size, ulong FileOffset);

/// <summary>
/// Lays memory zones out as upstream does: back to back, in zone order, over the RAM ranges below
/// the 32-bit device hole and then from 4 GiB, a zone crossing the hole being split in two.
/// </summary>
public static class RamLayout
{
    /// <summary>The guest-physical ranges RAM may occupy: [0, 3 GiB) and [4 GiB, top).</summary>
    public static IReadOnlyList<(ulong Start, ulong Size)> RamRanges { get; } =
        [(0, Layout.Ram32BitEnd), (Layout.RamAbove4GStart, ulong.MaxValue - Layout.RamAbove4GStart)];

    /// <summary>
    /// Places zones of the given sizes; each slice's size is a multiple of its zone's alignment, so
    /// a huge-page zone may leave an unused gap below the hole.
    /// </summary>
    public static IReadOnlyList<ZoneSlice> Place(IReadOnlyList<(ulong Size, ulong Alignment)> zones)
    {
        var slices = new List<ZoneSlice>();
        var zone = 0;
        ulong zoneOffset = 0;
        foreach (var (rangeStart, rangeSize) in RamRanges)
        {
            ulong rangeOffset = 0;
            while (zone < zones.Count)
            {
                var (size, alignment) = zones[zone];
                var available = (rangeSize - rangeOffset) & ~(alignment - 1);
                if (available == 0)
                {
                    break;
                }

                var remaining = size - zoneOffset;
                var sliceSize = Math.Min(remaining, available);
                if (sliceSize > 0)
                {
                    slices.Add(new ZoneSlice(zone, rangeStart + rangeOffset, sliceSize, zoneOffset));
                }

                if (remaining <= available)
                {
                    rangeOffset += remaining;
                    zone++;
                    zoneOffset = 0;
                }
                else
                {
                    zoneOffset += available;
                    break;
                }
            }
        }

        return slices;
    }
}
