using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--disk.</summary>
public static class DiskOption
{
    private static readonly string[] Keys = OptionReader.With(
        ["path", "readonly", "direct", "queue_size", "num_queues", "vhost_user", "socket", "_disable_io_uring", "_disable_aio", "serial", "rate_limit_group", "queue_affinity", "backing_files", "sparse", "image_type", "lock_granularity"],
        RateLimiting.Keys,
        OptionReader.PciKeys);

    public static DiskConfig Parse(string input)
    {
        var p = OptionReader.Parse("disk", input, Keys);
        return OptionReader.Guard("disk", () =>
        {
            var pci = PciCommon.Read(p);
            var affinity = p.ConvertRef<List<KeyValuePair<ushort, List<ulong>>>>("queue_affinity", (string raw, out List<KeyValuePair<ushort, List<ulong>>> v) =>
                ValueConverters.TupleList<ushort, List<ulong>>(raw, ValueConverters.U16, ValueConverters.U64List, out v));
            return new DiskConfig
            {
                Path = p.Get("path"),
                Readonly = p.Toggle("readonly", false),
                Direct = p.Toggle("direct", false),
                Iommu = pci.Iommu,
                QueueSize = p.U16("queue_size") ?? 128,
                NumQueues = p.U64("num_queues") ?? 1,
                VhostUser = p.Toggle("vhost_user", false),
                VhostSocket = p.Get("socket"),
                Id = pci.Id,
                DisableIoUring = p.Toggle("_disable_io_uring", false),
                DisableAio = p.Toggle("_disable_aio", false),
                PciSegment = pci.PciSegment,
                PciDeviceId = pci.PciDeviceId,
                RateLimitGroup = p.Get("rate_limit_group"),
                RateLimiterConfig = RateLimiting.Limiter(p),
                Serial = p.Get("serial"),
                QueueAffinity = affinity?.ConvertAll(t => new VirtQueueAffinity { QueueIndex = t.Key, HostCpus = t.Value }),
                BackingFiles = p.Toggle("backing_files", false),
                Sparse = p.Toggle("sparse", true),
                ImageType = p.Convert<ImageType>("image_type", TryImageType) ?? ImageType.Unknown,
                LockGranularity = p.Convert<LockGranularity>("lock_granularity", TryLockGranularity) ?? LockGranularity.ByteRange,
            };
        });
    }

    private static bool TryImageType(string raw, out ImageType value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "raw": value = ImageType.Raw; return true;
            case "qcow2": value = ImageType.Qcow2; return true;
            case "vhd": value = ImageType.FixedVhd; return true;
            case "vhdx": value = ImageType.Vhdx; return true;
            case "vmdk": value = ImageType.FlatVmdk; return true;
            default: value = default; return false;
        }
    }

    private static bool TryLockGranularity(string raw, out LockGranularity value)
    {
        switch (OptionSyntax.Dequote(raw))
        {
            case "byte-range": value = LockGranularity.ByteRange; return true;
            case "full": value = LockGranularity.Full; return true;
            default: value = default; return false;
        }
    }
}
