using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Memory;

/// <summary>
/// The memory zones a configuration describes, checked as upstream checks them when the VM is
/// created: `--memory-zone` only with `size=0`, and the hotplug sizes consistent. Hotplug itself
/// (ACPI or virtio-mem) is not supported yet.
/// </summary>
internal static class MemoryZones
{
    private const ulong DefaultHugePageSize = 2UL << 20;

    public static IReadOnlyList<MemoryZoneConfig> Resolve(MemoryConfig config)
    {
        List<MemoryZoneConfig> zones = config.Size != 0 ? [DefaultZone(config)] : UserZones(config);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var zone in zones)
        {
            if (zone.HotplugSize == 0)
            {
                Log.Error("'hotplug_size' can't be 0");
                throw MemoryManager.Error("Invalid size for resizing. Can be anything except 0");
            }

            if (!ids.Add(zone.Id))
            {
                Log.Error($"Memory zone identifier '{zone.Id}' found more than once. It must be unique");
                throw MemoryManager.Error("Memory zone identifier is not unique");
            }
        }

        foreach (var zone in zones)
        {
            if (zone.HotplugSize is not null)
            {
                var feature = config.Size != 0 ? "memory hotplug (--memory hotplug_size)" : $"virtio-mem (hotplug_size on memory zone {zone.Id})";
                throw new VmmException("Memory manager error", VmmException.NotSupportedYet(feature));
            }
        }

        return zones;
    }

    /// <summary>The unit a zone's regions are sized in: its huge page size, else the host page size.</summary>
    public static ulong Alignment(MemoryZoneConfig zone)
    {
        if (!zone.Hugepages)
        {
            return (ulong)Environment.SystemPageSize;
        }

        return zone.HugepageSize ?? DefaultHostHugePageSize();
    }

    public static GuestMemoryOptions Options(MemoryZoneConfig zone, bool thp) => new()
    {
        Shared = zone.Shared,
        HugePages = zone.Hugepages,
        HugePageSize = zone.HugepageSize,
        Prefault = zone.Prefault,
        Thp = thp,
        Mergeable = zone.Mergeable,
        BackingFile = zone.File,
        HostNumaNode = zone.HostNumaNode,
    };

    /// <summary>`--memory` without zones becomes one zone, as upstream does.</summary>
    private static MemoryZoneConfig DefaultZone(MemoryConfig config)
    {
        if (config.Zones is not null)
        {
            Log.Error("User defined memory regions can't be provided if the memory size is not 0");
            throw MemoryManager.Error("Memory configuration is not valid");
        }

        CheckHotplugged(config.HotpluggedSize, config.HotplugSize, config.HotplugMethod);
        return new MemoryZoneConfig
        {
            Id = MemoryManager.DefaultZone,
            Size = config.Size,
            Shared = config.Shared,
            Hugepages = config.Hugepages,
            HugepageSize = config.HugepageSize,
            HotplugSize = config.HotplugSize,
            HotpluggedSize = config.HotpluggedSize,
            Prefault = config.Prefault,
            Mergeable = config.Mergeable,
        };
    }

    private static List<MemoryZoneConfig> UserZones(MemoryConfig config)
    {
        if (config.Zones is not { Count: > 0 } zones)
        {
            Log.Error("User defined memory regions must be provided if the memory size is 0");
            throw MemoryManager.Error("No memory zones found");
        }

        foreach (var zone in zones)
        {
            if (zone.Shared && zone.File is not null && zone.HostNumaNode is not null)
            {
                Log.Error("Invalid to set host NUMA policy for a memory zone backed by a regular file and mapped as 'shared'");
                throw MemoryManager.Error("Invalid to try applying a NUMA policy to a memory zone that is memory mapped with MAP_SHARED");
            }

            if (zone.HotplugSize is not null && config.HotplugMethod == HotplugMethod.Acpi)
            {
                Log.Error("Invalid to set ACPI hotplug method for memory zones");
                throw MemoryManager.Error("Invalid hotplug method associated with memory zones resizing capability");
            }

            CheckHotplugged(zone.HotpluggedSize, zone.HotplugSize, config.HotplugMethod);
        }

        return zones;
    }

    private static void CheckHotplugged(ulong? hotplugged, ulong? hotplug, HotplugMethod method)
    {
        if (hotplugged is not { } size)
        {
            return;
        }

        if (hotplug is null)
        {
            Log.Error("Invalid to define 'hotplugged_size' when there is no 'hotplug_size'");
            throw MemoryManager.Error("Memory configuration is not valid");
        }

        if (size > hotplug)
        {
            Log.Error($"'hotplugged_size' {size} can't be bigger than 'hotplug_size' {hotplug}");
            throw MemoryManager.Error("Memory configuration is not valid");
        }

        if (method == HotplugMethod.Acpi)
        {
            Log.Error("Invalid to define 'hotplugged_size' with hotplug method 'acpi'");
            throw MemoryManager.Error("Memory configuration is not valid");
        }
    }

    /// <summary>The host's default huge page size (what upstream reads from /dev/hugepages).</summary>
    private static ulong DefaultHostHugePageSize()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("Hugepagesize:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan(13).Trim().TrimEnd("kB").Trim(), out var kib))
                {
                    return kib << 10;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable (e.g. outside a Landlock sandbox): x86-64's default size.
        }

        return DefaultHugePageSize;
    }
}
