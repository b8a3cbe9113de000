using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--net.</summary>
public static class NetOption
{
    private static readonly string[] Keys = OptionReader.With(
        ["tap", "ip", "mask", "mac", "host_mac", "offload_tso", "offload_ufo", "offload_csum", "mtu", "queue_size", "num_queues", "vhost_user", "socket", "vhost_mode", "fd"],
        RateLimiting.Keys,
        OptionReader.PciKeys);

    public static NetConfig Parse(string input)
    {
        var p = OptionReader.Parse("net", input, Keys);
        return OptionReader.Guard("net", () =>
        {
            var config = new NetConfig
            {
                Tap = p.Get("tap"),
                Ip = p.ConvertRef<string>("ip", NetAddresses.TryIp),
                Mask = p.ConvertRef<string>("mask", NetAddresses.TryIp),
                Mac = p.ConvertRef<string>("mac", NetAddresses.TryMac) ?? NetAddresses.RandomMac(),
                HostMac = p.ConvertRef<string>("host_mac", NetAddresses.TryMac),
                OffloadTso = p.Toggle("offload_tso", true),
                OffloadUfo = p.Toggle("offload_ufo", true),
                OffloadCsum = p.Toggle("offload_csum", true),
                Mtu = p.U16("mtu"),
            };
            var pci = PciCommon.Read(p);
            config.Iommu = pci.Iommu;
            config.QueueSize = p.U16("queue_size") ?? 256;
            config.NumQueues = p.U64("num_queues") ?? 2;
            config.VhostUser = p.Toggle("vhost_user", false);
            config.VhostSocket = p.Get("socket");
            config.VhostMode = p.Convert<VhostMode>("vhost_mode", TryVhostMode) ?? VhostMode.Client;
            config.Id = pci.Id;
            config.Fds = p.ConvertRef<List<int>>("fd", ValueConverters.I32List);
            config.PciSegment = pci.PciSegment;
            config.PciDeviceId = pci.PciDeviceId;
            config.RateLimiterConfig = RateLimiting.Limiter(p);
            return config;
        });
    }

    private static bool TryVhostMode(string raw, out VhostMode value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "client": value = VhostMode.Client; return true;
            case "server": value = VhostMode.Server; return true;
            default: value = default; return false;
        }
    }
}
