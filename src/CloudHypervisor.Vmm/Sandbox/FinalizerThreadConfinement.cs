using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// The Landlock confinement of the runtime's finalizer thread, which exists before Main. Landlock confines only the
/// calling thread, so the finalizer thread has to confine itself. It is made to as libpsx runs a syscall on another
/// thread: a real-time signal sent to it with tgkill(2), whose handler creates an empty ruleset, sets no_new_privs
/// and restricts the thread, on the other core while main goes on. Waiting for a finalizer instead would need a
/// garbage collection, and the process's first one costs a quarter of a millisecond of start-up.
/// </summary>
/// <remarks>
/// The handler is managed code entered from a signal, which is only safe on a thread in preemptive mode (in native
/// code): the signal is sent only while no collection has run yet, so the finalizer thread has never left its first
/// native wait. The runtime creates it before any other thread, so its id is usually the process id plus one
/// (tgkill fails on a thread of another process); otherwise it is looked for in /proc/self/task, where it must be
/// the only other thread. When neither holds, a finalizer does it, after one collection.
/// </remarks>
public sealed class FinalizerThreadConfinement
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

    // Read and written by the signal handler: plain statics, so touching them runs no class constructor there.
    private static ulong handledAccess;
    private static int answered, confined, failure;

    private readonly int signal;
    private volatile bool done, succeeded;

    private FinalizerThreadConfinement(int signal) => this.signal = signal;

    /// <summary>Starts the confinement; <see cref="Wait"/> tells how it ended.</summary>
    public static FinalizerThreadConfinement Begin()
    {
        var handled = LandlockAccess.HandledBy(LandlockSandbox.AbiVersion);
        if (handled != LandlockAccessFs.None && GC.CollectionCount(0) == 0)
        {
            try
            {
                handledAccess = (ulong)handled;
                if (TrySignal() is { } confinement)
                {
                    return confinement;
                }
            }
            catch (OsException e)
            {
                Log.Debug($"Landlock: confining the finalizer thread by a collection instead of a signal: {e.Message}");
            }
        }

        return ByCollection();
    }

    /// <returns>Whether the finalizer thread is confined, once it has tried.</returns>
    public bool Wait()
    {
        if (!done && signal != 0)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref answered) == 0 && clock.Elapsed < AnswerTimeout)
            {
                Thread.Sleep(1);
            }

            succeeded = Volatile.Read(ref confined) == 1;
            done = true;
            Ignore(signal);
            if (!succeeded)
            {
                var reason = Volatile.Read(ref answered) == 0 ? "the thread did not answer" : new OsException(failure).Message;
                Log.Error($"Error applying landlock to finalizer thread: {reason}");
            }
        }
        else if (!done)
        {
            GC.WaitForPendingFinalizers();
        }

        return succeeded;
    }

    private static unsafe FinalizerThreadConfinement? TrySignal()
    {
        var signal = Libc.CurrentSigRtMin() + 3;
        var action = default(Libc.SigAction);
        action.Handler = (nint)(delegate* unmanaged<int, void*, void*, void>)&OnSignal;
        action.Flags = Libc.SaSigInfo | Libc.SaRestart;
        if (Libc.Sigaction(signal, &action, null) != 0)
        {
            throw OsException.Last();
        }

        var pid = Libc.GetPid();
        if (Libc.Tgkill(pid, pid + 1, signal) == 0 || (OtherThreads() is [var finalizer] && Libc.Tgkill(pid, finalizer, signal) == 0))
        {
            return new FinalizerThreadConfinement(signal);
        }

        Ignore(signal);
        return null;
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnSignal(int signal, void* info, void* context)
    {
        var errno = Marshal.GetLastSystemError();
        var attr = new Libc.LandlockRulesetAttr { HandledAccessFs = handledAccess };
        var ruleset = Libc.SyscallInSignalHandler(Libc.SysLandlockCreateRuleset, (nint)(&attr), sizeof(Libc.LandlockRulesetAttr), 0, 0, 0);
        if (ruleset >= 0
            && Libc.SyscallInSignalHandler(Libc.SysPrctl, Libc.PrSetNoNewPrivs, 1, 0, 0, 0) == 0
            && Libc.SyscallInSignalHandler(Libc.SysLandlockRestrictSelf, (nint)ruleset, 0, 0, 0, 0) == 0)
        {
            Volatile.Write(ref confined, 1);
        }
        else
        {
            failure = Marshal.GetLastSystemError();
        }

        if (ruleset >= 0)
        {
            _ = Libc.SyscallInSignalHandler(Libc.SysClose, (nint)ruleset, 0, 0, 0, 0);
        }

        Volatile.Write(ref answered, 1);
        Marshal.SetLastSystemError(errno);
    }

    private static unsafe void Ignore(int signal)
    {
        var action = default(Libc.SigAction);
        action.Handler = Libc.SigIgn;
        _ = Libc.Sigaction(signal, &action, null);
    }

    /// <summary>The ids in /proc/self/task but the caller's (read with getdents64: this runs first thing in start-up,
    /// where the first use of the managed directory enumeration costs a tenth of a millisecond).</summary>
    private static unsafe List<int> OtherThreads()
    {
        var self = Libc.GetTid();
        var threads = new List<int>();
        var fd = Libc.Open("/proc/self/task", Libc.ORdOnly | Libc.ODirectory | Libc.OCloExec, 0);
        if (fd < 0)
        {
            throw OsException.Last();
        }

        try
        {
            const int Size = 2048;
            var buffer = stackalloc byte[Size];
            nint filled;
            while ((filled = Libc.Getdents64(fd, buffer, Size)) > 0)
            {
                for (nint offset = 0; offset < filled; offset += *(ushort*)(buffer + offset + Libc.Dirent64RecordLengthOffset))
                {
                    var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(buffer + offset + Libc.Dirent64NameOffset);
                    if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var tid) && tid != self)
                    {
                        threads.Add(tid);
                    }
                }
            }

            return filled < 0 ? throw OsException.Last() : threads;
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    private static FinalizerThreadConfinement ByCollection()
    {
        var confinement = new FinalizerThreadConfinement(0);
        AbandonConfiner(confinement);

        // The object is in generation 0, so collecting that generation alone finds it.
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        return confinement;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AbandonConfiner(FinalizerThreadConfinement confinement) => _ = new FinalizerConfiner(confinement);

    private sealed class FinalizerConfiner(FinalizerThreadConfinement confinement)
    {
        ~FinalizerConfiner()
        {
            var outcome = ServiceThreadSandbox.TryConfineCurrent("finalizer");
            confinement.succeeded = outcome;
            confinement.done = true;
        }
    }
}
