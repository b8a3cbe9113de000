using System.Diagnostics;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Vmm.Seccomp;

namespace CloudHypervisor.Launcher;

/// <summary>
/// Turns the filters on, from the main thread while it is still unfiltered and before it has created any VMM
/// thread, in an order dictated by inheritance (a thread starts with its creator's filter; filters stack):
/// <list type="number">
/// <item>what filtered threads could otherwise only do later (the vCPU kick signal's handler);</item>
/// <item>the spawner, which creates threads for filtered threads that may not; its thread is started by main in the
/// VMM filter once the command line's VM runs (<see cref="ThreadSpawner.StartThread"/>), off the boot path;</item>
/// <item>the runtime's signal-handling thread, created by a short-lived thread already in the signal-handler filter,
/// so it and the threads it starts for SIGTERM/SIGINT (and the pool threads for SIGWINCH) inherit that filter;
/// main registers its own signal handlers only after <see cref="WaitForSignalThread"/>;</item>
/// <item>main itself enters the VMM filter; every VMM thread it or the VMM thread creates then adds its own.</item>
/// </list>
/// The runtime's finalizer thread predates Main and stays unfiltered; concurrent GC is off (cloud-hypervisor.csproj)
/// so no background GC thread is created later under whichever thread's filter happened to trigger it.
/// </summary>
internal static class SeccompStartup
{
    private static nuint signalSetup;
    private static nuint precompile;

    /// <summary>
    /// Starts compiling the VMM thread's program on a short-lived native thread while main parses the command line
    /// (unless the arguments ask for help, the version or no filters); <see cref="Apply"/> picks it up.
    /// </summary>
    public static unsafe void PrecompileInBackground(string[] args)
    {
        foreach (var arg in args)
        {
            if (arg is "-h" or "--help" or "-V" or "--version" or "false" or "--seccomp=false")
            {
                return;
            }
        }

        nuint thread;
        if (Libc.PthreadCreate(&thread, null, &Precompile, null) == 0)
        {
            precompile = thread;
        }
    }

    public static void Apply(SeccompMode mode)
    {
        var clock = Stopwatch.StartNew();
        JoinPrecompile();
        var compiled = clock.Elapsed.TotalMilliseconds;
        _ = ThreadKick.Signal;
        SeccompFilters.Enable(mode);
        ThreadSpawner.Create();
        StartRuntimeSignalThread();
        var prepared = clock.Elapsed.TotalMilliseconds;
        ThreadSandbox.Enter(SeccompThreadKind.Vmm);
        Log.Debug($"seccomp: filters on ({mode}) in {clock.Elapsed.TotalMilliseconds:F3} ms (waiting for the compile {compiled:F3} ms, set-up {prepared - compiled:F3} ms)");
    }

    /// <summary>Waits for the background compile (if any): its program is then visible to this thread.</summary>
    public static unsafe void JoinPrecompile()
    {
        if (precompile != 0)
        {
            _ = Libc.PthreadJoin(precompile, null);
            precompile = 0;
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe void* Precompile(void* argument)
    {
        SeccompFilters.PrecompileVmm();
        return null;
    }

    /// <summary>Returns once the runtime's signal thread exists (under the signal-handler filter), if filters are on.</summary>
    public static unsafe void WaitForSignalThread()
    {
        if (signalSetup != 0)
        {
            _ = Libc.PthreadJoin(signalSetup, null);
            signalSetup = 0;
        }
    }

    /// <summary>
    /// A native thread (a managed one's start waits for it to run; this one overlaps main's start-up) that enters
    /// the signal-handler filter and makes the first signal registration, which creates the runtime's signal thread.
    /// </summary>
    private static unsafe void StartRuntimeSignalThread()
    {
        nuint thread;
        if (Libc.PthreadCreate(&thread, null, &SetUpSignalThread, null) != 0)
        {
            throw new SeccompException("Failed to start the signal-handler set-up thread");
        }

        signalSetup = thread;
    }

    [UnmanagedCallersOnly]
    private static unsafe void* SetUpSignalThread(void* argument)
    {
        ThreadSandbox.Enter(SeccompThreadKind.SignalHandler);
        if (OperatingSystem.IsLinux())
        {
            PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => { }).Dispose();
        }

        return null;
    }
}
