using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace CloudHypervisor.Sys.Interop;

/// <summary>TUN/TAP character device ioctls (linux/if_tun.h) and struct ifreq (linux/if.h), x86-64.</summary>
public static partial class Libc
{
    public const string TunDevicePath = "/dev/net/tun";

    public const short IffTap = 0x0002, IffNoPi = 0x1000, IffVnetHdr = 0x4000, IffMultiQueue = 0x0100;
    public const uint TunFCsum = 0x01, TunFTso4 = 0x02, TunFTso6 = 0x04, TunFTsoEcn = 0x08, TunFUfo = 0x10;
    public const int FDupFdCloExec = 1030;

    public static readonly ulong TunSetIff = IoctlCode.Iow('T', 202, sizeof(int));
    public static readonly ulong TunSetOffload = IoctlCode.Iow('T', 208, sizeof(uint));
    public static readonly ulong TunGetIff = IoctlCode.Ior('T', 210, sizeof(uint));
    public static readonly ulong TunSetVnetHdrSz = IoctlCode.Iow('T', 216, sizeof(int));

    /// <summary>struct ifreq (40 bytes): a 16-byte interface name and a 24-byte union.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IfReq
    {
        public const int NameCapacity = 16;
        public const int UnionOffset = 16;

        public IfName Name;
        public IfReqUnion Union;

        /// <summary>A request for interface <paramref name="name"/> (at most 15 bytes, as IFNAMSIZ leaves room for the NUL).</summary>
        public static IfReq For(string name)
        {
            var request = default(IfReq);
            Span<byte> destination = request.Name;
            if (Encoding.UTF8.GetByteCount(name) >= NameCapacity)
            {
                throw new ArgumentException($"Interface name is longer than {NameCapacity - 1} bytes: {name}", nameof(name));
            }

            Encoding.UTF8.GetBytes(name, destination);
            return request;
        }

        public readonly string InterfaceName
        {
            get
            {
                ReadOnlySpan<byte> bytes = Name;
                var end = bytes.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
            }
        }

        /// <summary>ifr_flags (short).</summary>
        public short Flags
        {
            readonly get => Unsafe.As<IfReqUnion, short>(ref Unsafe.AsRef(in Union));
            set => Unsafe.As<IfReqUnion, short>(ref Union) = value;
        }

        /// <summary>ifr_mtu / ifr_ifindex (int).</summary>
        public int Int
        {
            readonly get => Unsafe.As<IfReqUnion, int>(ref Unsafe.AsRef(in Union));
            set => Unsafe.As<IfReqUnion, int>(ref Union) = value;
        }

        /// <summary>ifr_addr / ifr_netmask as an AF_INET sockaddr_in: family, port 0, the address in network order.</summary>
        public void SetInetAddress(ReadOnlySpan<byte> ipv4)
        {
            Span<byte> union = Union;
            union.Clear();
            BitConverter.TryWriteBytes(union, (ushort)AfInet);
            ipv4.CopyTo(union[4..8]);
        }

        /// <summary>ifr_hwaddr: ARPHRD_ETHER and six address bytes.</summary>
        public void SetHardwareAddress(ReadOnlySpan<byte> mac)
        {
            Span<byte> union = Union;
            union.Clear();
            BitConverter.TryWriteBytes(union, ArphrdEther);
            mac.CopyTo(union[2..8]);
        }

        public readonly void GetHardwareAddress(Span<byte> mac)
        {
            ReadOnlySpan<byte> union = Union;
            union[2..8].CopyTo(mac);
        }
    }

    [InlineArray(IfReq.NameCapacity)]
    public struct IfName
    {
        private byte element;
    }

    [InlineArray(24)]
    public struct IfReqUnion
    {
        private byte element;
    }
}
