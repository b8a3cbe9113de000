using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Interface configuration ioctls on an AF_INET datagram socket (linux/sockios.h), and readv/writev for packet fds.</summary>
public static partial class Libc
{
    public const int AfInet = 2, SockDgram = 2;
    public const ushort ArphrdEther = 1;
    public const short IffUp = 0x1, IffRunning = 0x40;

    public const ulong SiocGIfFlags = 0x8913, SiocSIfFlags = 0x8914, SiocSIfAddr = 0x8916, SiocSIfNetmask = 0x891C,
        SiocSIfMtu = 0x8922, SiocGIfMtu = 0x8921, SiocSIfHwAddr = 0x8924, SiocGIfHwAddr = 0x8927;

    [LibraryImport(Name, EntryPoint = "readv", SetLastError = true)]
    public static unsafe partial nint Readv(int fd, IoVec* iov, int count);

    [LibraryImport(Name, EntryPoint = "writev", SetLastError = true)]
    public static unsafe partial nint Writev(int fd, IoVec* iov, int count);
}
