using System.Globalization;
using System.Net;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.Virtio.Net;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// Turns a `--net` configuration into a virtio-net device over its TAP: the caller's descriptors
/// (<c>fd=</c> or those passed with <c>vm.add-net</c>), or the named TAP opened or created
/// (<c>vmtap%d</c> when unnamed) and configured as upstream does: IP and netmask unless the interface
/// already existed, host MAC (set, or read back into the configuration), MTU, then brought up.
/// </summary>
internal static class NetDevices
{
    public static VirtioNet Open(NetConfig config)
    {
        var id = config.Id ?? throw new VmmException("Network device without an id");
        RejectUnsupported(config);
        var tap = config.Fds is { Count: > 0 } fds ? FromFd(fds[0]) : OpenTap(config);
        try
        {
            var mac = ParseMac(config.Mac ?? throw new VmmException("Network device without a MAC address"));
            var options = new NetDeviceOptions(id, mac, config.QueueSize, config.Mtu, config.OffloadCsum, config.OffloadTso, config.OffloadUfo);
            return new VirtioNet(tap, options);
        }
        catch
        {
            tap.Dispose();
            throw;
        }
    }

    private static Tap FromFd(int fd)
    {
        try
        {
            return Tap.FromFd(fd);
        }
        catch (TapException e)
        {
            throw new VmmException("Cannot create virtio-net device", e);
        }
    }

    private static Tap OpenTap(NetConfig config)
    {
        var name = string.IsNullOrEmpty(config.Tap) ? Tap.DefaultNamePattern : config.Tap;
        var existed = !string.IsNullOrEmpty(config.Tap) && Tap.InterfaceExists(config.Tap);
        Tap tap;
        try
        {
            tap = Tap.Open(name);
        }
        catch (TapException e)
        {
            throw new VmmException("Cannot create virtio-net device", new VmmException("Open tap device failed", e));
        }

        try
        {
            if (existed)
            {
                Log.Warn($"Tap {config.Tap} already exists. IP configuration will not be overwritten.");
            }
            else if (config.Ip is { } ip)
            {
                tap.SetIpAddress(IPAddress.Parse(ip), config.Mask is { } mask ? IPAddress.Parse(mask) : null);
            }

            if (config.HostMac is { } hostMac)
            {
                tap.SetMacAddress(ParseMac(hostMac));
            }
            else
            {
                config.HostMac = FormatMac(tap.GetMacAddress());
            }

            if (config.Mtu is { } mtu)
            {
                tap.SetMtu(mtu);
            }

            tap.Enable();
            return tap;
        }
        catch (TapException e)
        {
            tap.Dispose();
            throw new VmmException("Cannot create virtio-net device", e);
        }
    }

    private static void RejectUnsupported(NetConfig config)
    {
        var unsupported =
            config.VhostUser ? "vhost-user network devices (--net vhost_user=on)" :
            config.NumQueues > 2 ? "virtio-net with more than one queue pair (num_queues > 2)" :
            config.RateLimiterConfig is not null ? "network rate limiting (bw_*, ops_*)" :
            config.Iommu ? "virtio-iommu" :
            null;
        if (unsupported is not null)
        {
            throw new VmmException("Cannot create virtio-net device", VmmException.NotSupportedYet(unsupported));
        }
    }

    private static byte[] ParseMac(string text)
    {
        var parts = text.Split(':');
        var mac = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            mac[i] = byte.Parse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return mac;
    }

    private static string FormatMac(ReadOnlySpan<byte> mac) =>
        string.Create(CultureInfo.InvariantCulture, $"{mac[0]:x2}:{mac[1]:x2}:{mac[2]:x2}:{mac[3]:x2}:{mac[4]:x2}:{mac[5]:x2}");
}
