using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--restore source_url=,prefault=,memory_restore_mode=,net_fds=,vfio_fds=,iommufd_fd=,resume=,zone_updates=</summary>
public static class RestoreOption
{
    private static readonly string[] Keys = ["source_url", "prefault", "memory_restore_mode", "net_fds", "vfio_fds", "iommufd_fd", "resume", "zone_updates"];

    public static RestoreConfig Parse(string input)
    {
        var p = OptionReader.Parse("restore", input, Keys);
        string source = p.Get("source_url") ?? throw ConfigParseException.Problem("restore", "source_url missing");
        return OptionReader.Guard("restore", () =>
        {
            var netFds = p.ConvertRef<List<KeyValuePair<string, List<ulong>>>>("net_fds", (string raw, out List<KeyValuePair<string, List<ulong>>> v) =>
                ValueConverters.TupleList<string, List<ulong>>(raw, ValueConverters.String, ValueConverters.U64List, out v));
            var vfioFds = p.ConvertRef<List<KeyValuePair<string, ulong>>>("vfio_fds", (string raw, out List<KeyValuePair<string, ulong>> v) =>
                ValueConverters.TupleList<string, ulong>(raw, ValueConverters.String, ValueConverters.TupleU64, out v));
            var zones = p.ConvertRef<List<KeyValuePair<string, ulong>>>("zone_updates", (string raw, out List<KeyValuePair<string, ulong>> v) =>
                ValueConverters.TupleList<string, ulong>(raw, ValueConverters.String, ValueConverters.TupleU64, out v));
            return new RestoreConfig
            {
                SourceUrl = source,
                Prefault = p.Toggle("prefault", false),
                MemoryRestoreMode = p.Convert<MemoryRestoreMode>("memory_restore_mode", TryMode) ?? MemoryRestoreMode.Copy,
                NetFds = netFds?.ConvertAll(n => new RestoredNetConfig { Id = n.Key, NumFds = (ulong)n.Value.Count, Fds = n.Value.ConvertAll(fd => (int)fd) }),
                VfioFds = vfioFds?.ConvertAll(v => new RestoredVfioConfig { Id = v.Key, Fd = (int)v.Value }),
                IommufdFd = p.I32("iommufd_fd"),
                Resume = p.Toggle("resume", false),
                ZoneUpdates = zones?.ConvertAll(z => new VmMemoryZoneUpdateData { Id = z.Key, HostNumaNode = (uint)z.Value }) ?? [],
            };
        });
    }

    private static bool TryMode(string raw, out MemoryRestoreMode value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "copy": value = MemoryRestoreMode.Copy; return true;
            case "ondemand": value = MemoryRestoreMode.OnDemand; return true;
            default: value = default; return false;
        }
    }
}
