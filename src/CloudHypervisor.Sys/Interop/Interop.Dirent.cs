using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    /// <summary>struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the NUL-terminated name.</summary>
    public const int Dirent64RecordLengthOffset = 16, Dirent64NameOffset = 19;

    /// <summary>getdents64(2): fills <paramref name="buffer"/> with directory records; 0 at the end, -1 with errno set.</summary>
    [LibraryImport(Name, EntryPoint = "getdents64", SetLastError = true)]
    public static unsafe partial nint Getdents64(int fd, byte* buffer, nuint count);
}
