using System.Runtime.CompilerServices;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// With <c>--landlock</c>, upstream confines its main, http-server and event-monitor threads to an empty
/// ruleset: they only use descriptors opened before, so they may open no file at all. The same is done
/// here, and to the runtime's finalizer thread too, which exists before Main and only closes handles.
/// </summary>
public static class ServiceThreadSandbox
{
    /// <returns>false (after logging upstream's error line) when the kernel refused the ruleset.</returns>
    public static bool TryConfineCurrent(string threadName)
    {
        try
        {
            LandlockSandbox.RestrictCurrentThread([]);
            return true;
        }
        catch (LandlockException e)
        {
            Log.Error($"Error applying landlock to {threadName} thread: {string.Join(": ", e.Chain())}");
            return false;
        }
    }

    /// <summary>
    /// A thread can only confine itself, so a finalizer does it on the finalizer thread: one unreachable object
    /// and one collection. Done first thing, while the heap is nearly empty and no other managed thread runs: the
    /// collection then stops nobody (after the boot it would stall the vCPUs' first exits), and it need not be
    /// waited for until main confines itself (<see cref="FinalizerConfinement.Wait"/>).
    /// </summary>
    public static FinalizerConfinement BeginConfiningFinalizerThread()
    {
        var outcome = new FinalizerConfinement();
        AbandonConfiner(outcome);

        // The object is in generation 0, so collecting that generation alone finds it.
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        return outcome;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AbandonConfiner(FinalizerConfinement outcome) => _ = new FinalizerConfiner(outcome);

    /// <summary>The finalizer thread's confinement, under way or done.</summary>
    public sealed class FinalizerConfinement
    {
        private volatile bool done, confined;

        /// <returns>Whether the finalizer thread is confined, once its finalizer has run.</returns>
        public bool Wait()
        {
            if (!done)
            {
                GC.WaitForPendingFinalizers();
            }

            return confined;
        }

        internal void Complete(bool outcome)
        {
            confined = outcome;
            done = true;
        }
    }

    private sealed class FinalizerConfiner(FinalizerConfinement outcome)
    {
        ~FinalizerConfiner() => outcome.Complete(TryConfineCurrent("finalizer"));
    }
}
