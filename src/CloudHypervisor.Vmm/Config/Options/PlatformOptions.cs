using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--platform, --pci-segment, --numa, --rate-limit-group and --landlock-rules.</summary>
public static class PlatformOptions
{
    private static readonly string[] PlatformKeys =
    [
        "num_pci_segments", "iommu_segments", "iommu_address_width", "iommufd", "iommufd_fd", "vfio_p2p_dma", "serial_number", "uuid", "oem_strings",
        "system_manufacturer", "system_product_name", "system_version", "system_serial_number", "system_uuid", "system_sku_number", "system_family", "chassis_asset_tag",
    ];

    public static PlatformConfig ParsePlatform(string input)
    {
        var p = OptionReader.Parse("platform", input, PlatformKeys);
        return OptionReader.Guard("platform", () =>
        {
            var config = new PlatformConfig
            {
                NumPciSegments = p.U16("num_pci_segments") ?? 1,
                IommuSegments = p.ConvertRef<List<ushort>>("iommu_segments", ValueConverters.U16List),
                IommuAddressWidthBits = p.U8("iommu_address_width") ?? ValidationErrors.MaxIommuAddressWidthBits,
                SystemSerialNumber = p.Get("system_serial_number") ?? p.Get("serial_number"),
                SystemUuid = p.Get("system_uuid") ?? p.Get("uuid"),
                OemStrings = p.ConvertRef<List<string>>("oem_strings", ValueConverters.StringList),
                SystemManufacturer = p.Get("system_manufacturer"),
                SystemProductName = p.Get("system_product_name"),
                SystemVersion = p.Get("system_version"),
                SystemFamily = p.Get("system_family"),
                SystemSkuNumber = p.Get("system_sku_number"),
                ChassisAssetTag = p.Get("chassis_asset_tag"),
                IommufdFd = p.I32("iommufd_fd"),
                VfioP2pDma = p.Toggle("vfio_p2p_dma", true),
            };
            config.Iommufd = p.Toggle("iommufd", config.IommufdFd is not null);
            return config;
        });
    }

    public static PciSegmentConfig ParsePciSegment(string input)
    {
        var p = OptionReader.Parse("pci-segment", input, ["mmio32_aperture_weight", "mmio64_aperture_weight", "pci_segment"]);
        return OptionReader.Guard("pci-segment", () => new PciSegmentConfig
        {
            PciSegment = p.U16("pci_segment") ?? 0,
            Mmio32ApertureWeight = p.U32("mmio32_aperture_weight") ?? 1,
            Mmio64ApertureWeight = p.U32("mmio64_aperture_weight") ?? 1,
        });
    }

    public static NumaConfig ParseNuma(string input)
    {
        var p = OptionReader.Parse("numa", input, ["guest_numa_id", "cpus", "distances", "memory_zones", "pci_segments", "device_id"]);
        return OptionReader.Guard("numa", () =>
        {
            uint id = p.U32("guest_numa_id") ?? throw ConfigParseException.Option("numa", OptionParserException.InvalidValue("guest_numa_id is required for all NUMA nodes"));
            var distances = p.ConvertRef<List<KeyValuePair<ulong, ulong>>>("distances", (string raw, out List<KeyValuePair<ulong, ulong>> v) =>
                ValueConverters.TupleList<ulong, ulong>(raw, ValueConverters.U64, ValueConverters.TupleU64, out v));
            return new NumaConfig
            {
                GuestNumaId = id,
                Cpus = p.ConvertRef<List<uint>>("cpus", ValueConverters.U32List),
                Distances = distances?.ConvertAll(d => new NumaDistance { Destination = (uint)d.Key, Distance = (byte)d.Value }),
                MemoryZones = p.ConvertRef<List<string>>("memory_zones", ValueConverters.StringList),
                PciSegments = p.ConvertRef<List<ushort>>("pci_segments", ValueConverters.U16List),
                DeviceId = p.Get("device_id"),
            };
        });
    }

    public static RateLimitGroupConfig ParseRateLimitGroup(string input)
    {
        var p = OptionReader.Parse("rate-limit-group", input, OptionReader.With(RateLimiting.Keys, ["id"]));
        return OptionReader.Guard("rate-limit-group", () =>
        {
            var (bandwidth, ops) = RateLimiting.Read(p);
            return new RateLimitGroupConfig { Id = p.Get("id") ?? string.Empty, RateLimiterConfig = new RateLimiterConfig { Bandwidth = bandwidth, Ops = ops } };
        });
    }

    public static LandlockConfig ParseLandlockRule(string input)
    {
        var p = OptionReader.Parse("landlock-rules", input, ["path", "access"]);
        string path = p.Get("path") ?? throw ConfigParseException.Problem("landlock-rules", "path/access field missing");
        string access = p.Get("access") ?? throw ConfigParseException.Problem("landlock-rules", "path/access field missing");
        if (access.Length > 2)
        {
            throw ConfigParseException.Option("landlock-rules", OptionParserException.InvalidValue(access));
        }

        return new LandlockConfig { Path = path, Access = access };
    }
}
