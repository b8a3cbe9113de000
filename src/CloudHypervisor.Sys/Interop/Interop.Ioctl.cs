using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, ulong arg);

    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    public static unsafe partial int Ioctl(int fd, ulong request, void* arg);

    /// <summary>Linux _IOC encoding (asm-generic/ioctl.h).</summary>
    public static class IoctlCode
    {
        private const int NrShift = 0, TypeShift = 8, SizeShift = 16, DirShift = 30;
        private const uint None = 0, Write = 1, Read = 2;

        public static ulong Io(uint type, uint nr) => Encode(None, type, nr, 0);

        public static ulong Iow(uint type, uint nr, uint size) => Encode(Write, type, nr, size);

        public static ulong Ior(uint type, uint nr, uint size) => Encode(Read, type, nr, size);

        public static ulong Iowr(uint type, uint nr, uint size) => Encode(Read | Write, type, nr, size);

        private static ulong Encode(uint dir, uint type, uint nr, uint size) =>
            (dir << DirShift) | (size << SizeShift) | (type << TypeShift) | (nr << NrShift);
    }
}
