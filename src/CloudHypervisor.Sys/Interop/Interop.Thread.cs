using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport(Name, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(Name, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static unsafe partial int SchedSetAffinity(int tid, nuint size, ulong* mask);
}
