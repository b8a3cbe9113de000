using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int SaRestart = 0x10000000;
    public const nint SigIgn = 1;
    public const int SigBlock = 0, SigUnblock = 1, SigSetMask = 2;

    /// <summary>glibc's struct sigaction on x86-64 (152 bytes): handler, 1024-bit mask, flags, restorer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct SigAction
    {
        public nint Handler;
        public fixed ulong Mask[16];
        public int Flags;
        public nint Restorer;
    }

    [LibraryImport(Name, EntryPoint = "sigaction", SetLastError = true)]
    public static unsafe partial int Sigaction(int signal, SigAction* action, SigAction* old);

    [LibraryImport(Name, EntryPoint = "pthread_self")]
    public static partial nuint PthreadSelf();

    [LibraryImport(Name, EntryPoint = "pthread_kill")]
    public static partial int PthreadKill(nuint thread, int signal);

    [LibraryImport(Name, EntryPoint = "__libc_current_sigrtmin")]
    public static partial int CurrentSigRtMin();
}
