using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// The Landlock confinement of the runtime's finalizer thread, which exists before Main. Landlock confines only the
/// calling thread, so the finalizer thread has to confine itself. It is made to as libpsx runs a syscall on another
/// thread: a real-time signal sent to it with tgkill(2), whose handler sets no_new_privs and restricts the thread to
/// an empty ruleset, on the other core while main goes on. Waiting for a finalizer instead would need a garbage
/// collection, and the process's first one costs a quarter of a millisecond of start-up.
/// </summary>
/// <remarks>
/// The handler is managed code entered from a signal, which is only safe on a thread in preemptive mode (in native
/// code): the signal is sent only while no collection has run yet, so the finalizer thread has never left its first
/// native wait, and only when it is the one other thread. Otherwise a finalizer does it, after one collection.
/// </remarks>
public sealed class FinalizerThreadConfinement
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

    // Read and written by the signal handler: plain statics, so touching them runs no class constructor there.
    private static int rulesetFd, answered, confined, failure;

    private readonly LandlockRulesetHandle? ruleset;
    private readonly int signal;
    private volatile bool done, succeeded;

    private FinalizerThreadConfinement(LandlockRulesetHandle? ruleset, int signal)
    {
        this.ruleset = ruleset;
        this.signal = signal;
    }

    /// <summary>Starts the confinement; <see cref="Wait"/> tells how it ended.</summary>
    public static FinalizerThreadConfinement Begin()
    {
        var handled = LandlockAccess.HandledBy(LandlockSandbox.AbiVersion);
        if (handled != LandlockAccessFs.None && GC.CollectionCount(0) == 0 && OtherThreads() is [var finalizer])
        {
            try
            {
                return Signal(finalizer, LandlockRulesetHandle.Create(handled));
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
        if (!done && ruleset is not null)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref answered) == 0 && clock.Elapsed < AnswerTimeout)
            {
                Thread.Sleep(1);
            }

            succeeded = Volatile.Read(ref confined) == 1;
            done = true;
            Ignore(signal);
            ruleset.Dispose();
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

    private static unsafe FinalizerThreadConfinement Signal(int tid, LandlockRulesetHandle ruleset)
    {
        var signal = Libc.CurrentSigRtMin() + 3;
        rulesetFd = (int)ruleset.DangerousGetHandle();
        var action = default(Libc.SigAction);
        action.Handler = (nint)(delegate* unmanaged<int, void*, void*, void>)&OnSignal;
        action.Flags = Libc.SaSigInfo | Libc.SaRestart;
        if (Libc.Sigaction(signal, &action, null) != 0 || Libc.Tgkill(Libc.GetPid(), tid, signal) != 0)
        {
            var error = OsException.Last();
            Ignore(signal);
            ruleset.Dispose();
            throw error;
        }

        return new FinalizerThreadConfinement(ruleset, signal);
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnSignal(int signal, void* info, void* context)
    {
        var errno = Marshal.GetLastSystemError();
        if (Libc.SyscallInSignalHandler(Libc.SysPrctl, Libc.PrSetNoNewPrivs, 1, 0, 0, 0) == 0
            && Libc.SyscallInSignalHandler(Libc.SysLandlockRestrictSelf, rulesetFd, 0, 0, 0, 0) == 0)
        {
            Volatile.Write(ref confined, 1);
        }
        else
        {
            failure = Marshal.GetLastSystemError();
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

    private static List<int> OtherThreads()
    {
        var self = Libc.GetTid();
        var threads = new List<int>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            var tid = int.Parse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture);
            if (tid != self)
            {
                threads.Add(tid);
            }
        }

        return threads;
    }

    private static FinalizerThreadConfinement ByCollection()
    {
        var confinement = new FinalizerThreadConfinement(null, 0);
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
