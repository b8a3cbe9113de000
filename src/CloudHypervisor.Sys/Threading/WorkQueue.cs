namespace CloudHypervisor.Sys.Threading;

/// <summary>
/// A first-in first-out queue whose consumers sleep while it is empty, without spinning first.
/// </summary>
/// <remarks>
/// <see cref="System.Collections.Concurrent.BlockingCollection{T}"/> waits on a SemaphoreSlim, which calls
/// sched_yield over a hundred times before it sleeps. The VMM's service threads wait most of their life, and on a
/// machine with few cores each of those spins takes a core from the vCPU or the thread doing the work.
/// </remarks>
public sealed class WorkQueue<T>
{
    private readonly Queue<T> items = new();
    private bool completed;

    /// <returns>false once <see cref="CompleteAdding"/> was called; the item is then dropped.</returns>
    public bool TryAdd(T item)
    {
        lock (items)
        {
            if (completed)
            {
                return false;
            }

            items.Enqueue(item);
            Monitor.Pulse(items);
            return true;
        }
    }

    /// <summary>Waits for an item.</summary>
    /// <returns>false when the queue is completed and empty.</returns>
    public bool TryTake(out T item)
    {
        lock (items)
        {
            while (items.Count == 0)
            {
                if (completed)
                {
                    item = default!;
                    return false;
                }

                Monitor.Wait(items);
            }

            item = items.Dequeue();
            return true;
        }
    }

    /// <summary>Refuses further items; the ones queued are still taken.</summary>
    public void CompleteAdding()
    {
        lock (items)
        {
            completed = true;
            Monitor.PulseAll(items);
        }
    }
}
