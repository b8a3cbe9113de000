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
    /// A thread can only confine itself, so a finalizer does it on the finalizer thread: one unreachable
    /// object, one collection, and a wait for its finalizer.
    /// </summary>
    public static bool TryConfineFinalizerThread()
    {
        var outcome = new ConfinementOutcome();
        AbandonConfiner(outcome);

        // The object is in generation 0, so collecting that generation alone finds it (and stays cheap).
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        return outcome.Confined;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AbandonConfiner(ConfinementOutcome outcome) => _ = new FinalizerConfiner(outcome);

    private sealed class ConfinementOutcome
    {
        public volatile bool Confined;
    }

    private sealed class FinalizerConfiner(ConfinementOutcome outcome)
    {
        ~FinalizerConfiner() => outcome.Confined = TryConfineCurrent("finalizer");
    }
}
