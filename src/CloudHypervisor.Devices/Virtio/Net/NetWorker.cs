using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// The I/O thread of one queue pair (named <c>&lt;id&gt;_qp0</c> as upstream's): a <see cref="VirtioWorker"/> over
/// the receive, transmit and control queues with the TAP as the receive queue's source. A TAP event or a
/// receive notification drains frames into posted buffers; a transmit notification sends frames.
/// </summary>
internal sealed class NetWorker : IDisposable
{
    private readonly NetQueuePair pair;
    private readonly NetControlQueue control;
    private readonly IVirtioInterrupt interrupt;
    private readonly VirtioWorker worker;

    public NetWorker(string name, int tapFd, NetQueuePair pair, NetControlQueue control, VirtioActivation activation)
    {
        this.pair = pair;
        this.control = control;
        interrupt = activation.Interrupt;
        VirtioWorkerSource? tap = null;
        foreach (var binding in activation.Queues)
        {
            if (binding.Index == VirtioNet.ReceiveQueue)
            {
                tap = new VirtioWorkerSource(tapFd, binding);
            }
        }

        worker = VirtioWorker.Start(name, SeccompThreadKind.VirtioNet, activation.Queues, Serve, tap);
    }

    public void Dispose() => worker.Dispose();

    /// <summary>Runs one queue's processing and interrupts the driver if it wants that.</summary>
    private void Serve(VirtioQueueBinding binding)
    {
        var used = binding.Index switch
        {
            VirtioNet.ReceiveQueue => pair.Receive(binding.Queue),
            VirtioNet.TransmitQueue => pair.Transmit(binding.Queue),
            _ => control.Process(binding.Queue),
        };
        if (used && binding.Queue.NeedsNotification())
        {
            interrupt.SignalQueue(binding.Index);
        }
    }
}
