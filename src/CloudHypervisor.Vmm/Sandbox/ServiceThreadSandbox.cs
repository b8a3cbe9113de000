using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// With <c>--landlock</c>, upstream confines its main, http-server and event-monitor threads to an empty
/// ruleset: they only use descriptors opened before, so they may open no file at all. The same is done
/// here, and to the runtime's finalizer thread too (<see cref="FinalizerThreadConfinement"/>).
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
}
