using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--memory and --memory-zone.</summary>
public static class MemoryOption
{
    private const ulong DefaultSize = 512UL << 20;

    private static readonly string[] Keys = ["size", "file", "mergeable", "hotplug_method", "hotplug_size", "hotplugged_size", "shared", "hugepages", "hugepage_size", "prefault", "reserve", "thp"];
    private static readonly string[] ZoneKeys = ["id", "size", "file", "shared", "hugepages", "hugepage_size", "host_numa_node", "hotplug_size", "hotplugged_size", "prefault", "reserve", "mergeable"];

    public static MemoryConfig Parse(string input, IReadOnlyList<string>? zones)
    {
        var p = OptionReader.Parse("memory", input, Keys);
        var config = OptionReader.Guard("memory", () => new MemoryConfig
        {
            Size = p.ByteSize("size") ?? DefaultSize,
            Mergeable = p.Toggle("mergeable", false),
            HotplugMethod = p.Convert<HotplugMethod>("hotplug_method", TryHotplugMethod) ?? HotplugMethod.Acpi,
            HotplugSize = p.ByteSize("hotplug_size"),
            HotpluggedSize = p.ByteSize("hotplugged_size"),
            Shared = p.Toggle("shared", false),
            Hugepages = p.Toggle("hugepages", false),
            HugepageSize = p.ByteSize("hugepage_size"),
            Prefault = p.Toggle("prefault", false),
            Reserve = p.Toggle("reserve", false),
            Thp = p.Toggle("thp", true),
        });

        if (zones is not null)
        {
            config.Zones = [];
            foreach (string zone in zones)
            {
                config.Zones.Add(ParseZone(zone, config.Mergeable));
            }
        }

        return config;
    }

    private static MemoryZoneConfig ParseZone(string input, bool defaultMergeable)
    {
        var p = OptionReader.Parse("memory-zone", input, ZoneKeys);
        string id = p.Get("id") ?? throw ConfigParseException.Problem("memory-zone", "id missing");
        return OptionReader.Guard("memory-zone", () => new MemoryZoneConfig
        {
            Id = id,
            Size = p.ByteSize("size") ?? DefaultSize,
            File = p.Get("file"),
            Shared = p.Toggle("shared", false),
            Hugepages = p.Toggle("hugepages", false),
            HugepageSize = p.ByteSize("hugepage_size"),
            HostNumaNode = p.U32("host_numa_node"),
            HotplugSize = p.ByteSize("hotplug_size"),
            HotpluggedSize = p.ByteSize("hotplugged_size"),
            Prefault = p.Toggle("prefault", false),
            Reserve = p.Toggle("reserve", false),
            Mergeable = p.Toggle("mergeable", defaultMergeable),
        });
    }

    private static bool TryHotplugMethod(string raw, out HotplugMethod value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "acpi": value = HotplugMethod.Acpi; return true;
            case "virtio-mem": value = HotplugMethod.VirtioMem; return true;
            default: value = default; return false;
        }
    }
}
