using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const uint SIfMt = 0xF000, SIfDir = 0x4000, SIfBlk = 0x6000, SIfReg = 0x8000, SIfSock = 0xC000;

    /// <summary>struct stat on x86-64 (144 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Stat
    {
        public ulong Dev;
        public ulong Ino;
        public ulong NLink;
        public uint Mode;
        public uint Uid;
        public uint Gid;
        private int padding;
        public ulong RDev;
        public long Size;
        public long BlkSize;
        public long Blocks;
        public fixed long Times[6];
        private fixed long reserved[3];
    }

    [LibraryImport(Name, EntryPoint = "fstat", SetLastError = true)]
    public static unsafe partial int FStat(int fd, Stat* stat);

    [LibraryImport(Name, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int StatPath(string path, Stat* stat);
}
