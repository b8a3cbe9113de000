using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Vmm.Control;

/// <summary>
/// The single VMM thread: API requests and guest lifecycle events are queued to it and run one
/// at a time, so the VM state machine never sees two actions at once and no vCPU ever waits
/// on an API client.
/// </summary>
internal sealed class ControlThread : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread thread;

    public ControlThread(string name)
    {
        thread = new Thread(Run) { Name = name, IsBackground = true };
        ThreadSandbox.Start(thread);
    }

    public bool IsCurrent => Thread.CurrentThread == thread;

    /// <summary>Runs <paramref name="action"/> on the VMM thread and returns its result or rethrows its error.</summary>
    public T Invoke<T>(Func<T> action)
    {
        if (IsCurrent)
        {
            return action();
        }

        T result = default!;
        ExceptionDispatchInfo? error = null;
        using var done = new ManualResetEventSlim();
        var queued = Post(() =>
        {
            try
            {
                result = action();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                done.Set();
            }
        });
        if (!queued)
        {
            throw new VmError(VmErrorKind.Failed, "The VMM is shutting down");
        }

        done.Wait();
        error?.Throw();
        return result;
    }

    public void Invoke(Action action) => Invoke(() =>
    {
        action();
        return true;
    });

    /// <summary>Queues <paramref name="action"/> without waiting; safe from vCPU and signal threads.</summary>
    /// <returns>false once the VMM thread has stopped taking work (late events are dropped).</returns>
    public bool Post(Action action)
    {
        try
        {
            work.Add(action);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Stops taking work; already queued actions still run.</summary>
    public void Complete() => work.CompleteAdding();

    public void Dispose()
    {
        work.CompleteAdding();
        if (!IsCurrent)
        {
            thread.Join();
        }

        work.Dispose();
    }

    private void Run()
    {
        ThreadSandbox.Enter(SeccompThreadKind.Vmm);
        foreach (var action in work.GetConsumingEnumerable())
        {
            action();
        }
    }
}
