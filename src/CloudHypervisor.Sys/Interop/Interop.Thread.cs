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

    [LibraryImport(Name, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    public const int PrSetName = 15;

    /// <summary>Starts a native thread at <paramref name="start"/>; unlike a managed thread's start, does not wait for it to run.</summary>
    [LibraryImport(Name, EntryPoint = "pthread_create")]
    public static unsafe partial int PthreadCreate(nuint* thread, void* attributes, delegate* unmanaged<void*, void*> start, void* argument);

    [LibraryImport(Name, EntryPoint = "pthread_join")]
    public static unsafe partial int PthreadJoin(nuint thread, void** result);
}
