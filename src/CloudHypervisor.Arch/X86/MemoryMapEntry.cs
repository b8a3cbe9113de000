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
    /// low RAM below the EBDA, RAM from 1 MiB to the end of the first region, each further
    /// region, then the PCI MMCONFIG window as reserved.
    /// </summary>
    public static IReadOnlyList<MemoryMapEntry> Build(GuestMemory memory)
    {
        var entries = new List<MemoryMapEntry> { new(0, Layout.EbdaStart, MemoryType.Ram) };
        var first = true;
        foreach (var region in memory.Regions)
        {
            if (first)
            {
                if (region.End > Layout.HighRamStart)
                {
                    entries.Add(new(Layout.HighRamStart, region.End - Layout.HighRamStart, MemoryType.Ram));
                }

                first = false;
            }
            else
            {
                entries.Add(new(region.Start, region.Size, MemoryType.Ram));
            }
        }

        entries.Add(new(Layout.PciMmconfigStart, Layout.PciMmconfigSize, MemoryType.Reserved));
        return entries;
    }
}
