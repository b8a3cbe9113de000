using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Vmm.Memory;

/// <summary>Maps guest RAM as `--memory` describes and registers it with the hypervisor.</summary>
public static class MemoryManager
{
    public static GuestMemory Create(MemoryConfig config, IVm vm)
    {
        if (config.Zones is { Count: > 0 } || config.Size == 0)
        {
            throw new VmmException("Memory manager error", VmmException.NotSupportedYet("memory zones"));
        }

        if (config.HotplugSize is > 0)
        {
            throw new VmmException("Memory manager error", VmmException.NotSupportedYet("memory hotplug"));
        }

        var options = new GuestMemoryOptions
        {
            Shared = config.Shared,
            HugePages = config.Hugepages,
            HugePageSize = config.HugepageSize,
            Prefault = config.Prefault,
            Thp = config.Thp,
            Mergeable = config.Mergeable,
        };

        GuestMemory memory;
        try
        {
            memory = GuestMemory.Create(Layout.RamRanges(config.Size), options);
        }
        catch (GuestMemoryException e)
        {
            throw new VmmException("Memory manager error", e);
        }

        uint slot = 0;
        foreach (var region in memory.Regions)
        {
            vm.SetUserMemoryRegion(slot++, region.Start, region.Size, region.Host);
        }

        return memory;
    }
}
