using System.Runtime.ExceptionServices;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>Runs a test body on a fresh thread that may confine itself: Landlock never outlives that thread.</summary>
internal static class ConfinedThread
{
    public static T Run<T>(Func<T> body)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    public static void Run(Action body) => Run(() =>
    {
        body();
        return true;
    });
}
