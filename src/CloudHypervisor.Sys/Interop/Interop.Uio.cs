using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Positional vectored I/O, durability and hole punching on files and block devices.</summary>
public static partial class Libc
{
    public const int SeekEnd = 2;
    public const int FallocFlKeepSize = 0x01, FallocFlPunchHole = 0x02, FallocFlZeroRange = 0x10;
    public const int EOpNotSupp = 95;

    [LibraryImport(Name, EntryPoint = "preadv", SetLastError = true)]
    public static unsafe partial nint Preadv(int fd, IoVec* iov, int count, long offset);

    [LibraryImport(Name, EntryPoint = "pwritev", SetLastError = true)]
    public static unsafe partial nint Pwritev(int fd, IoVec* iov, int count, long offset);

    [LibraryImport(Name, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Name, EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(Name, EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(int fd, long offset, int whence);
}
