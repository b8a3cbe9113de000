using System.Diagnostics;
using System.Runtime.CompilerServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// The Landlock confinement of the runtime's finalizer thread, which exists before Main. Landlock confines only the
/// calling thread, so the finalizer thread has to confine itself. It is made to as libpsx runs a syscall on another
/// thread: a real-time signal sent to it with tgkill(2), whose handler (<see cref="LandlockSignalStub"/>, native
/// code) creates an empty ruleset, sets no_new_privs and restricts the thread. Main does this once the command line's
/// VM has booted, off the boot path. Waiting for a finalizer instead would need a garbage collection,
/// and the process's first one costs a quarter of a millisecond and stops every managed thread.
/// </summary>
/// <remarks>
/// The handler cannot be managed code: the signal may reach the finalizer thread before the runtime has attached it
/// (it starts concurrently with Main), and a managed handler would attach it a second time. The runtime creates that
/// thread before any other, so its id is the process id plus one unless another process took that id in between
/// (tgkill then fails: the thread is not in this process); a finalizer does it then, after one collection.
/// </remarks>
public sealed class FinalizerThreadConfinement
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

    private readonly LandlockSignalStub? stub;
    private readonly int signal;
    private volatile bool done, succeeded;

    private FinalizerThreadConfinement(LandlockSignalStub? stub, int signal)
    {
        this.stub = stub;
        this.signal = signal;
    }

    /// <summary>Starts the confinement; <see cref="Wait"/> tells how it ended.</summary>
    public static FinalizerThreadConfinement Begin()
    {
        var handled = LandlockAccess.HandledBy(LandlockSandbox.AbiVersion);
        if (handled != LandlockAccessFs.None)
        {
            try
            {
                if (TrySignal(LandlockSignalStub.Create((ulong)handled)) is { } confinement)
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
        if (!done && stub is not null)
        {
            var clock = Stopwatch.StartNew();
            while (!stub.Answered && clock.Elapsed < AnswerTimeout)
            {
                Thread.Sleep(1);
            }

            succeeded = stub.Answered && stub.Errno == 0;
            done = true;
            Ignore(signal);
            if (!succeeded)
            {
                var reason = stub.Answered ? new OsException(stub.Errno).Message : "the thread did not answer";
                Log.Error($"Error applying landlock to finalizer thread: {reason}");
            }
        }
        else if (!done)
        {
            GC.WaitForPendingFinalizers();
        }

        return succeeded;
    }

    private static unsafe FinalizerThreadConfinement? TrySignal(LandlockSignalStub stub)
    {
        var signal = Libc.CurrentSigRtMin() + 3;
        var action = default(Libc.SigAction);
        action.Handler = stub.Handler;
        action.Flags = Libc.SaRestart;
        if (Libc.Sigaction(signal, &action, null) != 0)
        {
            throw OsException.Last();
        }

        var pid = Libc.GetPid();
        if (Libc.Tgkill(pid, pid + 1, signal) == 0)
        {
            return new FinalizerThreadConfinement(stub, signal);
        }

        Ignore(signal);
        return null;
    }

    private static unsafe void Ignore(int signal)
    {
        var action = default(Libc.SigAction);
        action.Handler = Libc.SigIgn;
        _ = Libc.Sigaction(signal, &action, null);
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
