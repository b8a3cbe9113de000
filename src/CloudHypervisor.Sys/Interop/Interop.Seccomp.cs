using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int PrGetName = 16, PrSetSeccomp = 22, PrSetNoNewPrivs = 38;
    public const int SeccompModeFilter = 2;
    public const int SigSys = 31;
    public const int SaSigInfo = 4, SaOnStack = 0x0800_0000, SaResetHand = unchecked((int)0x8000_0000);

    /// <summary>struct sock_fprog: instruction count, then a pointer to the instructions.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct SockFprog
    {
        public ushort Length;
        public void* Filter;
    }

    [LibraryImport(Name, EntryPoint = "tgkill")]
    [SuppressGCTransition]
    public static partial int Tgkill(int tgid, int tid, int signal);

    [LibraryImport(Name, EntryPoint = "write")]
    [SuppressGCTransition]
    public static unsafe partial nint WriteRaw(int fd, byte* buffer, nuint count);
}
