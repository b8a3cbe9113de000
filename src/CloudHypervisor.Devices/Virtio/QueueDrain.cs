namespace CloudHypervisor.Devices.Virtio;

/// <summary>Answers one request chain; returns how many bytes it wrote into the chain's device-writable buffers.</summary>
public delegate uint ChainHandler(ref DescriptorChain chain);

/// <summary>The request loop shared by devices that answer each chain on its own (rng, pmem, watchdog).</summary>
public static class QueueDrain
{
    /// <summary>
    /// Pops every available chain with notifications off, answers each through <paramref name="handler"/>,
    /// checks again after turning notifications back on (as event-idx requires), then signals the queue's
    /// vector once if the driver wants it. A handler that breaks the queue ends the drain without a used entry.
    /// </summary>
    /// <remarks>Pass a delegate cached in a field: a method group converted per call would allocate.</remarks>
    public static void Run(VirtioQueueBinding binding, IVirtioInterrupt? interrupt, ChainHandler handler)
    {
        var queue = binding.Queue;
        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                var written = handler(ref chain);
                if (queue.IsBroken)
                {
                    return;
                }

                queue.AddUsed(chain.HeadIndex, written);
                used = true;
            }
        }
        while (queue.EnableNotification());

        if (used && queue.NeedsNotification())
        {
            interrupt?.SignalQueue(binding.Index);
        }
    }
}
