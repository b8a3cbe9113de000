using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>The single-purpose device options: --fs --pmem --vdpa --vsock --user-device --device --balloon --rng --rtc --tpm.</summary>
public static class DeviceOptions
{
    public const int FsTagMaxLength = 36;

    public static FsConfig ParseFs(string input)
    {
        var p = OptionReader.Parse("fs", input, ["tag", "socket", "num_queues", "queue_size", "id", "pci_segment", "pci_device_id"]);
        string tag = p.Get("tag") ?? throw ConfigParseException.Problem("fs", "tag missing");
        if (System.Text.Encoding.UTF8.GetByteCount(tag) > FsTagMaxLength)
        {
            throw ConfigParseException.Problem("fs", $"max tag length is {FsTagMaxLength}");
        }

        string socket = p.Get("socket") ?? throw ConfigParseException.Problem("fs", "socket missing");
        return OptionReader.Guard("fs", () => new FsConfig
        {
            Tag = tag,
            Socket = socket,
            QueueSize = p.U16("queue_size") ?? 1024,
            NumQueues = p.U64("num_queues") ?? 1,
            Id = p.Get("id"),
            PciSegment = p.U16("pci_segment") ?? 0,
            PciDeviceId = p.U8("pci_device_id"),
        });
    }

    public static PmemConfig ParsePmem(string input)
    {
        var p = OptionReader.Parse("pmem", input, OptionReader.With(["file", "size", "discard_writes"], OptionReader.PciKeys));
        string file = p.Get("file") ?? throw ConfigParseException.Problem("pmem", "file missing");
        return OptionReader.Guard("pmem", () =>
        {
            ulong? size = p.ByteSize("size");
            var pci = PciCommon.Read(p);
            return new PmemConfig
            {
                File = file,
                Size = size,
                Iommu = pci.Iommu,
                DiscardWrites = p.Toggle("discard_writes", false),
                Id = pci.Id,
                PciSegment = pci.PciSegment,
                PciDeviceId = pci.PciDeviceId,
            };
        });
    }

    public static VdpaConfig ParseVdpa(string input)
    {
        var p = OptionReader.Parse("vdpa", input, OptionReader.With(["path", "num_queues"], OptionReader.PciKeys));
        string path = p.Get("path") ?? throw ConfigParseException.Problem("vdpa", "path missing");
        return OptionReader.Guard("vdpa", () =>
        {
            ulong queues = p.U64("num_queues") ?? 1;
            var pci = PciCommon.Read(p);
            return new VdpaConfig { Path = path, NumQueues = queues, Iommu = pci.Iommu, Id = pci.Id, PciSegment = pci.PciSegment, PciDeviceId = pci.PciDeviceId };
        });
    }

    public static VsockConfig ParseVsock(string input)
    {
        var p = OptionReader.Parse("vsock", input, OptionReader.With(["socket", "cid"], OptionReader.PciKeys));
        string socket = p.Get("socket") ?? throw ConfigParseException.Problem("vsock", "socket missing");
        bool iommu = OptionReader.Guard("vsock", () => p.Toggle("iommu", false));
        uint cid = OptionReader.Guard("vsock", () => p.U32("cid")) ?? throw ConfigParseException.Problem("vsock", "cid missing");
        return OptionReader.Guard("vsock", () => new VsockConfig
        {
            Cid = cid,
            Socket = socket,
            Iommu = iommu,
            Id = p.Get("id"),
            PciSegment = p.U16("pci_segment") ?? 0,
            PciDeviceId = p.U8("pci_device_id"),
        });
    }

    public static UserDeviceConfig ParseUserDevice(string input)
    {
        var p = OptionReader.Parse("user-device", input, ["socket", "id", "pci_segment", "pci_device_id"]);
        string socket = p.Get("socket") ?? throw ConfigParseException.Problem("user-device", "socket missing");
        return OptionReader.Guard("user-device", () => new UserDeviceConfig
        {
            Socket = socket,
            Id = p.Get("id"),
            PciSegment = p.U16("pci_segment") ?? 0,
            PciDeviceId = p.U8("pci_device_id"),
        });
    }

    public static DeviceConfig ParseDevice(string input)
    {
        var p = OptionReader.Parse("device", input, OptionReader.With(["path", "fd", "x_nv_gpudirect_clique", "x_exclude_mmap_bars"], OptionReader.PciKeys));
        return OptionReader.Guard("device", () =>
        {
            var pci = PciCommon.Read(p);
            return new DeviceConfig
            {
                Path = p.Get("path"),
                Fd = p.I32("fd"),
                Iommu = pci.Iommu,
                Id = pci.Id,
                PciSegment = pci.PciSegment,
                PciDeviceId = pci.PciDeviceId,
                XNvGpudirectClique = p.U8("x_nv_gpudirect_clique"),
                XExcludeMmapBars = p.ConvertRef<List<ulong>>("x_exclude_mmap_bars", (string raw, out List<ulong> v) => ValueConverters.IntegerList(raw, 5, out v)) ?? [],
            };
        });
    }

    public static BalloonConfig ParseBalloon(string input)
    {
        var p = OptionReader.Parse("balloon", input, OptionReader.With(["size", "deflate_on_oom", "free_page_reporting"], OptionReader.PciKeys));
        return OptionReader.Guard("balloon", () =>
        {
            var config = new BalloonConfig
            {
                Size = p.ByteSize("size") ?? 0,
                DeflateOnOom = p.Toggle("deflate_on_oom", false),
                FreePageReporting = p.Toggle("free_page_reporting", false),
            };
            var pci = PciCommon.Read(p);
            (config.Iommu, config.Id, config.PciSegment, config.PciDeviceId) = (pci.Iommu, pci.Id, pci.PciSegment, pci.PciDeviceId);
            return config;
        });
    }

    public static RngConfig ParseRng(string input)
    {
        var p = OptionReader.Parse("rng", input, OptionReader.With(["src"], OptionReader.PciKeys));
        return OptionReader.Guard("rng", () =>
        {
            var pci = PciCommon.Read(p);
            return new RngConfig { Src = p.Get("src") ?? "/dev/urandom", Iommu = pci.Iommu, Id = pci.Id, PciSegment = pci.PciSegment, PciDeviceId = pci.PciDeviceId };
        });
    }

    public static RtcConfig ParseRtc(string input)
    {
        var p = OptionReader.Parse("rtc", input, OptionReader.PciKeys);
        return OptionReader.Guard("rtc", () =>
        {
            var pci = PciCommon.Read(p);
            return new RtcConfig { Iommu = pci.Iommu, Id = pci.Id, PciSegment = pci.PciSegment, PciDeviceId = pci.PciDeviceId };
        });
    }

    public static TpmConfig ParseTpm(string input)
    {
        var p = OptionReader.Parse("tpm", input, ["socket"]);
        return new TpmConfig { Socket = p.Get("socket") ?? throw ConfigParseException.Problem("tpm", "path missing") };
    }
}
