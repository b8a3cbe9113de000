using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Contracts;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Vmm.Memory;

/// <summary>
/// Maps guest RAM as `--memory` and `--memory-zone` describe it and registers each region with
/// the hypervisor as its own memory slot. A plain `--memory size=N` is one zone named `mem0`.
/// </summary>
public static class MemoryManager
{
    public const string DefaultZone = "mem0";

    public static GuestMemory Create(MemoryConfig config, IVm vm, MemorySlots? slots = null)
    {
        slots ??= new MemorySlots();
        var zones = MemoryZones.Resolve(config);
        var placement = new (ulong Size, ulong Alignment)[zones.Count];
        for (var i = 0; i < zones.Count; i++)
        {
            placement[i] = (zones[i].Size, MemoryZones.Alignment(zones[i]));
            if (zones[i].Size % placement[i].Alignment != 0)
            {
                throw Error("Memory size is misaligned with default page size or its hugepage size");
            }
        }

        var slices = RamLayout.Place(placement);
        var requests = new GuestRegionRequest[slices.Count];
        for (var i = 0; i < slices.Count; i++)
        {
            var slice = slices[i];
            var zone = zones[slice.Zone];
            requests[i] = new GuestRegionRequest(slice.Start, slice.Size, MemoryZones.Options(zone, config.Thp), slice.FileOffset, zone.Id);
        }

        GuestMemory memory;
        try
        {
            memory = GuestMemory.Create(requests);
        }
        catch (GuestMemoryException e)
        {
            throw new VmmException("Memory manager error", e);
        }

        try
        {
            foreach (var region in memory.Regions)
            {
                vm.SetUserMemoryRegion(slots.Allocate(), region.Start, region.Size, region.Host);
            }
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        return memory;
    }

    internal static VmmException Error(string leaf) => new("Memory manager error", new VmmException(leaf));
}
