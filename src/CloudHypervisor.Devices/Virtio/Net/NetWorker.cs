using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// The I/O thread of one queue pair (named <c>&lt;id&gt;_qpN</c> as upstream's): a <see cref="VirtioWorker"/> over the
/// pair's receive and transmit queues with its TAP queue as the receive queue's source, and the pair's wake timer
/// when it is rate-limited. A TAP event or a receive notification drains frames into posted buffers; a transmit
/// notification sends frames; a wake retries both.
/// </summary>
internal sealed class NetWorker : IDisposable
{
    private readonly NetQueuePair pair;
    private readonly int receiveIndex;
    private readonly IVirtioInterrupt interrupt;
    private readonly ThrottleWake? wake;
    private readonly VirtioWorker worker;

    public NetWorker(string name, int tapFd, int receiveIndex, NetQueuePair pair, IReadOnlyList<VirtioQueueBinding> queues, IVirtioInterrupt interrupt, ThrottleWake? wake)
    {
        this.pair = pair;
        this.receiveIndex = receiveIndex;
        this.interrupt = interrupt;
        this.wake = wake;
        VirtioWorkerSource? tap = null;
        foreach (var binding in queues)
        {
            if (binding.Index == receiveIndex)
            {
                tap = new VirtioWorkerSource(tapFd, binding);
            }
        }

        worker = VirtioWorker.Start(name, SeccompThreadKind.VirtioNet, queues, Serve, tap, wake);
    }

    public void Dispose()
    {
        worker.Dispose();
        wake?.Dispose();
    }

    /// <summary>Runs one queue's processing and interrupts the driver if it wants that.</summary>
    private void Serve(VirtioQueueBinding binding)
    {
        var used = binding.Index == receiveIndex ? pair.Receive(binding.Queue) : pair.Transmit(binding.Queue);
        if (used && binding.Queue.NeedsNotification())
        {
            interrupt.SignalQueue(binding.Index);
        }
    }
}
