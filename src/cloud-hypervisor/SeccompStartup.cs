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
/// Turns the filters on, from the main thread while it is still unfiltered, in an order dictated by inheritance
/// (a thread starts with its creator's filter; filters stack):
/// <list type="number">
/// <item>what filtered threads could otherwise only do later (the vCPU kick signal's handler);</item>
/// <item>the spawner, which creates threads for filtered threads that may not; its thread is started by main in the
/// VMM filter once the command line's VM has booted (<see cref="ThreadSpawner.StartThread"/>);</item>
/// <item>the runtime's signal-handling thread, created by a short-lived thread already in the signal-handler filter
/// (<see cref="StartSignalThread"/>, once the command line's VM has booted), so it and the threads it starts for
/// SIGTERM/SIGINT (and the pool threads for SIGWINCH) inherit that filter; main registers its own signal handlers
/// only after <see cref="WaitForSignalThread"/>;</item>
/// <item>every thread main or the VMM thread creates enters its own filter as it starts;</item>
/// <item>main itself enters the VMM filter (<see cref="EnterMainFilter"/>) once the command line's VM has booted and
/// the VMM's services are started, then has the VMM thread enter it (<c>VmmController.FilterVmmThread</c>): until
/// then neither runs anything a guest or an API client sent, and installing the largest filter after the guest's
/// start does not delay it.</item>
/// </list>
/// The runtime's finalizer thread predates Main and stays unfiltered; concurrent GC is off (cloud-hypervisor.csproj)
/// so no background GC thread is created later under whichever thread's filter happened to trigger it.
/// </summary>
internal static class SeccompStartup
{
    private static nuint backgroundSetUp;
    private static ManualResetEventSlim? signalThreadReady;

    public static void Apply(SeccompMode mode)
    {
        var clock = Stopwatch.StartNew();
        _ = ThreadKick.Signal;
        SeccompFilters.Enable(mode);
        ThreadSpawner.Create();
        if (Log.IsEnabled(LogLevel.Debug))
        {
            Log.Debug($"seccomp: filters configured ({mode}) in {clock.Elapsed.TotalMilliseconds:F3} ms");
        }
    }

    /// <summary>
    /// Starts the thread that creates the runtime's signal thread under the signal-handler filter (see
    /// <see cref="StartBackgroundSetUp"/>), if filters are on; main calls it, unfiltered, once the command line's VM
    /// has booted, and registers its own signal handlers only after <see cref="WaitForSignalThread"/>.
    /// </summary>
    public static void StartSignalThread()
    {
        if (ThreadSandbox.Enabled)
        {
            StartBackgroundSetUp();
        }
    }

    /// <summary>Main's own filter, the VMM thread's: after the command line's VM is booted, or at once without one.</summary>
    public static void EnterMainFilter()
    {
        if (ThreadSandbox.Enabled)
        {
            ThreadSandbox.Enter(SeccompThreadKind.Vmm);
        }
    }

    /// <summary>Returns once the runtime's signal thread exists (under the signal-handler filter), if filters are on.</summary>
    public static void WaitForSignalThread() => signalThreadReady?.Wait();

    /// <summary>Waits for the background thread (if any), so that the process never exits under it.</summary>
    public static unsafe void JoinBackgroundSetUp()
    {
        if (backgroundSetUp != 0)
        {
            _ = Libc.PthreadJoin(backgroundSetUp, null);
            backgroundSetUp = 0;
        }
    }

    /// <summary>
    /// One short-lived native thread (a managed one's start waits for it to run; this one overlaps main's start-up)
    /// that enters the signal-handler filter and makes the first signal registration, which creates the runtime's
    /// signal thread. It does nothing else: any more work here only competes with main for the other core.
    /// </summary>
    private static unsafe void StartBackgroundSetUp()
    {
        signalThreadReady = new ManualResetEventSlim(false, spinCount: 0);
        nuint thread;
        if (Libc.PthreadCreate(&thread, null, &SetUpInBackground, null) != 0)
        {
            throw new SeccompException("Failed to start the signal-handler set-up thread");
        }

        backgroundSetUp = thread;
    }

    [UnmanagedCallersOnly]
    private static unsafe void* SetUpInBackground(void* unused)
    {
        ThreadSandbox.Enter(SeccompThreadKind.SignalHandler);
        if (OperatingSystem.IsLinux())
        {
            PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => { }).Dispose();
        }

        signalThreadReady!.Set();
        return null;
    }
}
