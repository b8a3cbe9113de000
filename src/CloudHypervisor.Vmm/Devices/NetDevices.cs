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
/// already existed, host MAC (set, or read back into the configuration), MTU, then brought up. With
/// <c>num_queues</c> above 2 there is one TAP queue per pair: the interface is opened IFF_MULTI_QUEUE once per
/// pair, or the caller passes one descriptor per pair.
/// </summary>
internal static class NetDevices
{
    public static VirtioNet Open(NetConfig config)
    {
        var id = config.Id ?? throw new VmmException("Network device without an id");
        RejectUnsupported(config);
        var pairs = (int)Math.Max(1, config.NumQueues / 2);
        var taps = config.Fds is { Count: > 0 } fds ? FromFds(fds) : OpenTaps(config, pairs);
        try
        {
            var mac = ParseMac(config.Mac ?? throw new VmmException("Network device without a MAC address"));
            var limits = config.RateLimiterConfig is { } limiter ? RateLimiters.Settings(limiter) : null;
            var options = new NetDeviceOptions(id, mac, config.QueueSize, config.Mtu, config.OffloadCsum, config.OffloadTso, config.OffloadUfo, limits);
            return new VirtioNet(taps, options);
        }
        catch
        {
            DisposeAll(taps);
            throw;
        }
    }

    private static List<Tap> FromFds(List<int> fds)
    {
        var taps = new List<Tap>(fds.Count);
        try
        {
            foreach (var fd in fds)
            {
                taps.Add(Tap.FromFd(fd));
            }

            return taps;
        }
        catch (TapException e)
        {
            DisposeAll(taps);
            throw new VmmException("Cannot create virtio-net device", e);
        }
    }

    /// <summary>The first queue is opened (or the interface created) and configured; the other pairs attach to it by its name.</summary>
    private static List<Tap> OpenTaps(NetConfig config, int pairs)
    {
        var taps = new List<Tap>(pairs);
        try
        {
            taps.Add(OpenTap(config, pairs));
            for (var i = 1; i < pairs; i++)
            {
                taps.Add(Tap.Open(taps[0].Name, multiQueue: true));
            }

            return taps;
        }
        catch (TapException e)
        {
            DisposeAll(taps);
            throw new VmmException("Cannot create virtio-net device", new VmmException("Open tap device failed", e));
        }
        catch
        {
            DisposeAll(taps);
            throw;
        }
    }

    private static Tap OpenTap(NetConfig config, int pairs)
    {
        var name = string.IsNullOrEmpty(config.Tap) ? Tap.DefaultNamePattern : config.Tap;
        var existed = !string.IsNullOrEmpty(config.Tap) && Tap.InterfaceExists(config.Tap);
        if (existed)
        {
            CheckMultiQueueSupport(config.Tap!, pairs);
        }

        Tap tap;
        try
        {
            tap = Tap.Open(name, multiQueue: pairs > 1);
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

    /// <summary>An existing interface must have been created multi-queue exactly when more than one pair is wanted, as upstream checks.</summary>
    private static void CheckMultiQueueSupport(string name, int pairs)
    {
        var path = $"/sys/class/net/{name}/tun_flags";
        if (!File.Exists(path))
        {
            return;
        }

        uint flags;
        try
        {
            flags = uint.Parse(File.ReadAllText(path).Trim().Replace("0x", string.Empty, StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or UnauthorizedAccessException)
        {
            throw new VmmException("Cannot create virtio-net device", new VmmException("Failed to read the TAP flags from sysfs", e));
        }

        var multiQueue = (flags & (uint)Sys.Interop.Libc.IffMultiQueue) != 0;
        if (multiQueue && pairs == 1)
        {
            throw new VmmException("Cannot create virtio-net device", new VmmException("Error related to the multiqueue support (no support device side)"));
        }

        if (!multiQueue && pairs > 1)
        {
            throw new VmmException("Cannot create virtio-net device", new VmmException("Error related to the multiqueue support (no support TAP side)"));
        }
    }

    private static void DisposeAll(List<Tap> taps)
    {
        foreach (var tap in taps)
        {
            tap.Dispose();
        }
    }

    private static void RejectUnsupported(NetConfig config)
    {
        var unsupported =
            config.VhostUser ? "vhost-user network devices (--net vhost_user=on)" :
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
