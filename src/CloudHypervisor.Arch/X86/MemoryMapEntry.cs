using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Arch.X86;

public enum MemoryType : uint
{
    Ram = 1,
    Reserved = 2,
}

public readonly record struct MemoryMapEntry(ulong Address, ulong Size, MemoryType Type)
{
    /// <summary>
    /// The e820 / PVH memory map upstream hands the guest, in upstream's (unsorted) order:
    /// low RAM below the EBDA, RAM from 1 MiB to the end of the first contiguous RAM run, each
    /// further run (memory-zone regions that touch are merged, as upstream merges them), then the
    /// PCI MMCONFIG window as reserved.
    /// </summary>
    public static IReadOnlyList<MemoryMapEntry> Build(GuestMemory memory)
    {
        var entries = new List<MemoryMapEntry> { new(0, Layout.EbdaStart, MemoryType.Ram) };
        var runs = new List<(ulong Start, ulong End)>();
        foreach (var region in memory.Regions)
        {
            if (runs.Count > 0 && runs[^1].End == region.Start)
            {
                runs[^1] = (runs[^1].Start, region.End);
            }
            else
            {
                runs.Add((region.Start, region.End));
            }
        }

        for (var i = 0; i < runs.Count; i++)
        {
            var (start, end) = runs[i];
            if (i > 0)
            {
                entries.Add(new(start, end - start, MemoryType.Ram));
            }
            else if (end > Layout.HighRamStart)
            {
                entries.Add(new(Layout.HighRamStart, end - Layout.HighRamStart, MemoryType.Ram));
            }
        }

        entries.Add(new(Layout.PciMmconfigStart, Layout.PciMmconfigSize, MemoryType.Reserved));
        return entries;
    }
}
