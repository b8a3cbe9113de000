using System.Net;
using System.Net.Sockets;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// One queue of a TAP interface: a non-blocking /dev/net/tun descriptor attached with IFF_TAP, IFF_NO_PI
/// and IFF_VNET_HDR, so each read or write is one virtio_net_hdr_v1 plus one Ethernet frame. The
/// interface itself (address, netmask, MAC, MTU, up) is configured by name through an AF_INET socket.
/// </summary>
public sealed class Tap : IDisposable
{
    /// <summary>sizeof(struct virtio_net_hdr_v1): what the TAP prepends and expects (TUNSETVNETHDRSZ).</summary>
    public const int VnetHeaderSize = 12;

    /// <summary>The name the kernel completes when no name is given.</summary>
    public const string DefaultNamePattern = "vmtap%d";

    private Tap(SafeFd handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    public SafeFd Handle { get; }

    public int Fd => Handle.Fd;

    /// <summary>The interface name (e.g. <c>vmtap0</c>).</summary>
    public string Name { get; }

    /// <summary>Whether an interface of that name exists now.</summary>
    public static bool InterfaceExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    /// <summary>Attaches to TAP <paramref name="name"/>, creating it if it does not exist; a name with <c>%d</c> is completed by the kernel.</summary>
    public static unsafe Tap Open(string name, bool multiQueue = false)
    {
        SafeFd fd;
        try
        {
            fd = SafeFd.Open(Libc.TunDevicePath, Libc.ORdWr | Libc.ONonBlock);
        }
        catch (OsException e)
        {
            throw new TapException($"Couldn't open {Libc.TunDevicePath}", e);
        }

        try
        {
            var request = Libc.IfReq.For(name);
            request.Flags = (short)(Libc.IffTap | Libc.IffNoPi | Libc.IffVnetHdr | (multiQueue ? Libc.IffMultiQueue : 0));
            if (Libc.Ioctl(fd.Fd, Libc.TunSetIff, &request) < 0)
            {
                throw new TapException("Unable to configure tap interface", OsException.Last());
            }

            var tap = new Tap(fd, request.InterfaceName);
            tap.SetVnetHeaderSize();
            return tap;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes a TAP queue descriptor the caller opened (<c>fd=</c>, or one passed with <c>vm.add-net</c>): it is
    /// duplicated, so the caller's stays theirs, switched to non-blocking and checked to be a TAP with IFF_VNET_HDR.
    /// </summary>
    public static unsafe Tap FromFd(int callerFd)
    {
        var fd = new SafeFd(Libc.Fcntl(callerFd, Libc.FDupFdCloExec, 3));
        if (fd.IsInvalid)
        {
            throw new TapException($"Invalid tap file descriptor {callerFd}", OsException.Last());
        }

        try
        {
            var request = default(Libc.IfReq);
            if (Libc.Ioctl(fd.Fd, Libc.TunGetIff, &request) < 0)
            {
                throw new TapException($"File descriptor {callerFd} is not a TAP device", OsException.Last());
            }

            if ((request.Flags & Libc.IffTap) == 0 || (request.Flags & Libc.IffVnetHdr) == 0)
            {
                throw new TapException($"File descriptor {callerFd} ({request.InterfaceName}) is not a TAP opened with IFF_VNET_HDR");
            }

            var flags = Libc.Fcntl(fd.Fd, Libc.FGetFl, 0);
            if (flags < 0 || Libc.Fcntl(fd.Fd, Libc.FSetFl, flags | Libc.ONonBlock) < 0)
            {
                throw new TapException("Failed to set tap fd non-blocking", OsException.Last());
            }

            var tap = new Tap(fd, request.InterfaceName);
            tap.SetVnetHeaderSize();
            return tap;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Any packet descriptor standing in for a TAP queue (tests use a datagram socketpair).</summary>
    internal static Tap Wrap(SafeFd fd, string name) => new(fd, name);

    public void SetIpAddress(IPAddress address, IPAddress? netmask)
    {
        try
        {
            InterfaceIoctl(Libc.SiocSIfAddr, (ref Libc.IfReq r) => r.SetInetAddress(Ipv4Bytes(address)));
            if (netmask is not null)
            {
                InterfaceIoctl(Libc.SiocSIfNetmask, (ref Libc.IfReq r) => r.SetInetAddress(Ipv4Bytes(netmask)));
            }
        }
        catch (ChainedException e)
        {
            throw new TapException("Setting tap IP and/or netmask failed", e);
        }
    }

    public void SetMacAddress(ReadOnlySpan<byte> mac)
    {
        var bytes = mac.ToArray();
        try
        {
            InterfaceIoctl(Libc.SiocSIfHwAddr, (ref Libc.IfReq r) => r.SetHardwareAddress(bytes));
        }
        catch (ChainedException e)
        {
            throw new TapException("Setting MAC address failed", e);
        }
    }

    public byte[] GetMacAddress()
    {
        var mac = new byte[6];
        try
        {
            var request = InterfaceIoctl(Libc.SiocGIfHwAddr, null);
            request.GetHardwareAddress(mac);
        }
        catch (ChainedException e)
        {
            throw new TapException("Getting MAC address failed", e);
        }

        return mac;
    }

    public void SetMtu(int mtu)
    {
        try
        {
            InterfaceIoctl(Libc.SiocSIfMtu, (ref Libc.IfReq r) => r.Int = mtu);
        }
        catch (ChainedException e)
        {
            throw new TapException("Setting MTU failed", e);
        }
    }

    public int GetMtu()
    {
        try
        {
            return InterfaceIoctl(Libc.SiocGIfMtu, null).Int;
        }
        catch (ChainedException e)
        {
            throw new TapException("Getting MTU failed", e);
        }
    }

    /// <summary>Brings the interface up (IFF_UP | IFF_RUNNING).</summary>
    public void Enable()
    {
        try
        {
            var flags = InterfaceIoctl(Libc.SiocGIfFlags, null).Flags;
            InterfaceIoctl(Libc.SiocSIfFlags, (ref Libc.IfReq r) => r.Flags = (short)(flags | Libc.IffUp | Libc.IffRunning));
        }
        catch (ChainedException e)
        {
            throw new TapException("Enabling tap interface failed", e);
        }
    }

    /// <summary>TUNSETOFFLOAD: which offloads (TUN_F_*) frames handed to the guest may use.</summary>
    public void SetOffload(uint offloads)
    {
        if (Libc.Ioctl(Fd, Libc.TunSetOffload, offloads) < 0)
        {
            throw new TapException("Setting tap offload failed", OsException.Last());
        }
    }

    public void Dispose() => Handle.Dispose();

    private unsafe void SetVnetHeaderSize()
    {
        var size = VnetHeaderSize;
        if (Libc.Ioctl(Fd, Libc.TunSetVnetHdrSz, &size) < 0)
        {
            throw new TapException("Setting vnet header size failed", OsException.Last());
        }
    }

    private delegate void Fill(ref Libc.IfReq request);

    /// <summary>One SIOC* request for this interface on a throwaway AF_INET datagram socket; returns the request as the kernel left it.</summary>
    private unsafe Libc.IfReq InterfaceIoctl(ulong code, Fill? fill)
    {
        using var socket = new SafeFd(Libc.Socket(Libc.AfInet, Libc.SockDgram | Libc.SockCloExec, 0));
        if (socket.IsInvalid)
        {
            throw new TapException("Failed to create a socket", OsException.Last());
        }

        var request = Libc.IfReq.For(Name);
        fill?.Invoke(ref request);
        if (Libc.Ioctl(socket.Fd, code, &request) < 0)
        {
            throw OsException.Last();
        }

        return request;
    }

    private static byte[] Ipv4Bytes(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? address.GetAddressBytes()
            : throw new TapException($"Only IPv4 addresses can be set on a TAP for now: {address}");
}
