using System.Runtime.ExceptionServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Threading;

namespace CloudHypervisor.Vmm.Control;

/// <summary>
/// The single VMM thread: API requests and guest lifecycle events are queued to it and run one
/// at a time, so the VM state machine never sees two actions at once and no vCPU ever waits
/// on an API client.
/// </summary>
/// <remarks>
/// The thread enters its seccomp filter before the first action that is not the command line's own VM start
/// (<see cref="FilterTiming"/>): creating and booting that VM involves no input from a guest or an API client, so
/// it runs before the filter; main posts the action that installs it once the guest runs and the VMM's services
/// are started (<c>VmmController.FilterVmmThread</c>), so the installation does not delay the guest's start.
/// </remarks>
internal sealed class ControlThread : IDisposable
{
    private readonly WorkQueue<(Action Run, FilterTiming Filter)> work = new();
    private readonly Thread thread;
    private readonly bool filterAtStart;
    private bool filtered;

    public ControlThread(string name, bool filterAtStart = true)
    {
        this.filterAtStart = filterAtStart;
        thread = new Thread(Run) { Name = name, IsBackground = true };
        ThreadSandbox.Start(thread);
    }

    public bool IsCurrent => Thread.CurrentThread == thread;

    /// <summary>Runs <paramref name="action"/> on the VMM thread and returns its result or rethrows its error.</summary>
    public T Invoke<T>(Func<T> action, FilterTiming filter = FilterTiming.Before)
    {
        T result = default!;
        Begin(() => result = action(), filter).Wait();
        return result;
    }

    /// <summary>
    /// Queues <paramref name="action"/> (or, on the VMM thread itself, runs it) and returns at once; the call's
    /// <see cref="PendingCall.Wait"/> returns once it ran and rethrows its error.
    /// </summary>
    internal PendingCall Begin(Action action, FilterTiming filter = FilterTiming.Before)
    {
        var call = new PendingCall(action);
        if (IsCurrent)
        {
            call.Run();
        }
        else if (!Post(filter, call.Run))
        {
            call.Dispose();
            throw new VmError(VmErrorKind.Failed, "The VMM is shutting down");
        }

        return call;
    }

    public void Invoke(Action action, FilterTiming filter = FilterTiming.Before) => Invoke(() =>
    {
        action();
        return true;
    }, filter);

    /// <summary>Queues <paramref name="action"/> without waiting; safe from vCPU and signal threads.</summary>
    /// <returns>false once the VMM thread has stopped taking work (late events are dropped).</returns>
    public bool Post(Action action) => Post(FilterTiming.Before, action);

    private bool Post(FilterTiming filter, Action action) => work.TryAdd((action, filter));

    /// <summary>Stops taking work; already queued actions still run.</summary>
    public void Complete() => work.CompleteAdding();

    public void Dispose()
    {
        work.CompleteAdding();
        if (!IsCurrent)
        {
            thread.Join();
        }
    }

    private void Run()
    {
        if (filterAtStart)
        {
            EnterFilter();
        }
        else
        {
            // Entering the filter names the thread; until then it does so itself.
            NativeThreadName.ApplyCurrent();
        }

        while (work.TryTake(out var item))
        {
            var (action, filter) = item;
            if (filter == FilterTiming.Before)
            {
                EnterFilter();
            }

            action();
        }
    }

    private void EnterFilter()
    {
        if (!filtered)
        {
            filtered = true;
            ThreadSandbox.Enter(SeccompThreadKind.Vmm);
        }
    }
}

/// <summary>When the VMM thread enters its seccomp filter, relative to an action it runs.</summary>
public enum FilterTiming
{
    /// <summary>Before the action (every action but the command line's VM start).</summary>
    Before,

    /// <summary>Not for this action: the command line's VM creation and boot (the next action enters it).</summary>
    NotYet,
}

/// <summary>An action queued to the VMM thread (<see cref="ControlThread.Begin"/>).</summary>
public sealed class PendingCall(Action action) : IDisposable
{
    private readonly ManualResetEventSlim done = new(false, spinCount: 0);
    private ExceptionDispatchInfo? error;

    /// <summary>Returns once the action ran; rethrows its error.</summary>
    public void Wait()
    {
        done.Wait();
        Dispose();
        error?.Throw();
    }

    public void Dispose() => done.Dispose();

    internal void Run()
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            done.Set();
        }
    }
}
