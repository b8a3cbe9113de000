using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>
/// The key=value arguments of ch-remote's receive-migration and send-migration. Errors are the
/// bare <see cref="OptionParserException"/>; the caller adds its own context.
/// </summary>
public static class MigrationOptions
{
    public const string ReceiveSyntax =
        "VM receive migration parameters \"<receiver_url>\" or \"receiver_url=<url>[,tls_dir=<path>][,memory_mode=precopy|postcopy]" +
        "[,vfio_fds=<list_of_vfio_ids_with_their_associated_fd>][,iommufd_fd=<fd>][,zone_updates=[<id@host_numa_node>]]\"";

    public const string SendSyntax =
        "VM send migration parameters \"destination_url=<url>[,local=on|off,preserve_source=on|off,downtime_ms=<milliseconds>,timeout_s=<seconds>," +
        "timeout_strategy=cancel|ignore,connections=<amount>,tls_dir=<path>,memory_mode=precopy|postcopy]\"";

    private static readonly string[] ReceiveKeys = ["receiver_url", "tls_dir", "memory_mode", "vfio_fds", "iommufd_fd", "zone_updates"];

    private static readonly string[] SendKeys =
        ["destination_url", "local", "preserve_source", "downtime_ms", "timeout_s", "timeout_strategy", "connections", "tls_dir", "memory_mode"];

    /// <summary>receiver_url=&lt;url&gt;[,tls_dir=,memory_mode=,vfio_fds=[id@fd,..],iommufd_fd=,zone_updates=[id@node,..]].</summary>
    public static ReceiveMigrationData ParseReceive(string input)
    {
        var p = new OptionParser(ReceiveKeys).Parse(input);
        var url = p.Get("receiver_url") ?? throw OptionParserException.InvalidSyntax("receiver_url is required");
        var tlsDir = p.Get("tls_dir");
        var mode = p.Convert<MigrationMode>("memory_mode", TryMigrationMode) ?? MigrationMode.Precopy;
        var vfio = p.ConvertRef<List<KeyValuePair<string, ulong>>>("vfio_fds", (string raw, out List<KeyValuePair<string, ulong>> v) =>
            ValueConverters.TupleList<string, ulong>(raw, ValueConverters.String, ValueConverters.TupleU64, out v));
        var iommufd = p.I32("iommufd_fd");
        var zones = p.ConvertRef<List<KeyValuePair<string, uint>>>("zone_updates", (string raw, out List<KeyValuePair<string, uint>> v) =>
            ValueConverters.TupleList<string, uint>(raw, ValueConverters.String, TupleU32, out v));
        return new ReceiveMigrationData
        {
            ReceiverUrl = url,
            TlsDir = tlsDir,
            MemoryMode = mode,
            VfioFds = vfio?.ConvertAll(v => new RestoredVfioConfig { Id = v.Key, Fd = unchecked((int)v.Value) }),
            IommufdFd = iommufd,
            ZoneUpdates = zones?.ConvertAll(z => new VmMemoryZoneUpdateData { Id = z.Key, HostNumaNode = z.Value }) ?? [],
        };
    }

    /// <summary>destination_url=&lt;url&gt;[,local=,preserve_source=,downtime_ms=,timeout_s=,timeout_strategy=,connections=,tls_dir=,memory_mode=].</summary>
    public static SendMigrationData ParseSend(string input)
    {
        var p = new OptionParser(SendKeys).Parse(input);
        var url = p.Get("destination_url") ?? throw OptionParserException.InvalidSyntax("destination_url is required");
        var local = p.Toggle("local", false);
        var preserveSource = p.Toggle("preserve_source", false);
        var downtime = NonZero(p.U64("downtime_ms"), "downtime_ms") ?? 300;
        var timeout = NonZero(p.U64("timeout_s"), "timeout_s") ?? 3600;
        var strategy = p.Convert<TimeoutStrategy>("timeout_strategy", TryTimeoutStrategy) ?? TimeoutStrategy.Cancel;
        var connections = (uint?)NonZero(p.U32("connections"), "connections") ?? 1;
        var tlsDir = p.Get("tls_dir");
        var mode = p.Convert<MigrationMode>("memory_mode", TryMigrationMode) ?? MigrationMode.Precopy;
        return new SendMigrationData
        {
            DestinationUrl = url,
            Local = local,
            PreserveSource = preserveSource,
            DowntimeMs = downtime,
            TimeoutS = timeout,
            TimeoutStrategy = strategy,
            Connections = connections,
            TlsDir = tlsDir,
            MemoryMode = mode,
        };
    }

    private static ulong? NonZero(ulong? value, string key) =>
        value == 0 ? throw OptionParserException.InvalidValue($"{key} must be non-zero") : value;

    private static bool TupleU32(string raw, out uint value)
    {
        var ok = RustInteger.TryParseUnsigned(raw, uint.MaxValue, out var wide);
        value = (uint)wide;
        return ok;
    }

    private static bool TryMigrationMode(string raw, out MigrationMode value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "precopy": value = MigrationMode.Precopy; return true;
            case "postcopy": value = MigrationMode.Postcopy; return true;
            default: value = default; return false;
        }
    }

    private static bool TryTimeoutStrategy(string raw, out TimeoutStrategy value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "cancel": value = TimeoutStrategy.Cancel; return true;
            case "ignore": value = TimeoutStrategy.Ignore; return true;
            default: value = default; return false;
        }
    }
}
