using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    /// <summary>struct sockaddr_un: 2-byte family and a 108-byte path (110 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrUn
    {
        public const int PathCapacity = 108;

        public ushort Family;
        public SunPath Path;

        /// <summary>The address of a filesystem socket; the path must leave room for the terminating NUL.</summary>
        public static SockAddrUn ForPath(string path, out uint length)
        {
            var address = new SockAddrUn { Family = AfUnix };
            Span<byte> destination = address.Path;
            var byteCount = Encoding.UTF8.GetByteCount(path);
            if (byteCount == 0 || byteCount >= PathCapacity)
            {
                throw new ArgumentException($"Unix socket path must be 1..{PathCapacity - 1} bytes: {path}", nameof(path));
            }

            Encoding.UTF8.GetBytes(path, destination);
            length = (uint)(sizeof(ushort) + byteCount + 1);
            return address;
        }
    }

    [InlineArray(SockAddrUn.PathCapacity)]
    public struct SunPath
    {
        private byte element;
    }

    /// <summary>struct iovec (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr on x86-64 (56 bytes; the kernel pads after msg_namelen and msg_flags).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct cmsghdr header (16 bytes); the payload follows, 8-byte aligned.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>struct flock on x86-64 (32 bytes), for fcntl record and OFD locks.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock64
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>CMSG_ALIGN: control messages are aligned to sizeof(size_t).</summary>
    public static int CMsgAlign(int length) => (length + 7) & ~7;

    /// <summary>CMSG_SPACE: room a control message with this payload takes in the buffer.</summary>
    public static int CMsgSpace(int payloadLength) => CMsgAlign(Unsafe.SizeOf<CMsgHdr>()) + CMsgAlign(payloadLength);

    /// <summary>CMSG_LEN: the cmsg_len value for this payload.</summary>
    public static int CMsgLen(int payloadLength) => CMsgAlign(Unsafe.SizeOf<CMsgHdr>()) + payloadLength;
}
