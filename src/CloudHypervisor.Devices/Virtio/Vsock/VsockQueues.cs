using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>
/// The vsock device's queue processing on its I/O thread, in upstream's order: a transmit notification
/// sends every packet to the muxer, then fills receive buffers with whatever the muxer has for the guest;
/// a socket event (or a receive notification) lets the muxer handle its sockets first. Packets the device
/// cannot make sense of (a header that does not fit, data missing, oversized) are returned unused, as
/// upstream does; a chain that breaks the ring's rules stops its queue.
/// </summary>
internal sealed class VsockQueues
{
    public const uint MaxPacketData = 64 * 1024;

    private readonly string id;
    private readonly VsockMuxer muxer;
    private readonly IVirtioInterrupt? interrupt;
    private readonly VirtioQueueBinding? rx;
    private readonly VirtioQueueBinding? tx;
    private readonly GuestIoVectors rxData;
    private readonly GuestIoVectors txData;

    public VsockQueues(string id, VsockMuxer muxer, IVirtioInterrupt? interrupt, IReadOnlyList<VirtioQueueBinding> queues)
    {
        this.id = id;
        this.muxer = muxer;
        this.interrupt = interrupt;
        var largest = 1;
        foreach (var binding in queues)
        {
            largest = Math.Max(largest, binding.Queue.MaxSize);
            if (binding.Index == VirtioVsock.RxQueue)
            {
                rx = binding;
            }
            else if (binding.Index == VirtioVsock.TxQueue)
            {
                tx = binding;
            }
        }

        rxData = new GuestIoVectors(largest);
        txData = new GuestIoVectors(largest);
    }

    /// <summary>The receive queue's binding: socket events are delivered as if it had been notified.</summary>
    public VirtioQueueBinding? Rx => rx;

    /// <summary>Serves one notified queue (or a socket event, reported as the receive queue's).</summary>
    public void ProcessQueue(VirtioQueueBinding binding)
    {
        switch (binding.Index)
        {
            case VirtioVsock.RxQueue:
                muxer.Poll();
                ProcessTx();
                ProcessRx();
                break;
            case VirtioVsock.TxQueue:
                ProcessTx();
                ProcessRx();
                break;
            default:
                // The event queue only carries TRANSPORT_RESET, which this device never sends.
                break;
        }
    }

    private void ProcessTx()
    {
        if (tx is not { } binding)
        {
            return;
        }

        var queue = binding.Queue;
        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                if (TryReadTxPacket(ref chain, out var header))
                {
                    muxer.Send(header, txData);
                }

                if (queue.IsBroken)
                {
                    return;
                }

                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
            }
        }
        while (queue.EnableNotification());

        if (used && queue.NeedsNotification())
        {
            interrupt?.SignalQueue(binding.Index);
        }
    }

    private void ProcessRx()
    {
        if (rx is not { } binding)
        {
            return;
        }

        var queue = binding.Queue;
        var used = false;
        while (muxer.HasPendingRx && queue.TryPop(out var chain))
        {
            var readable = TryReadRxBuffers(ref chain, out var headerBytes);
            if (queue.IsBroken)
            {
                return;
            }

            if (!readable)
            {
                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
                continue;
            }

            var header = default(VsockHeader);
            if (!muxer.TryReceive(ref header, rxData))
            {
                queue.UndoPop();
                break;
            }

            header.Write(headerBytes);
            queue.AddUsed(chain.HeadIndex, VsockHeader.Size + header.Length);
            used = true;
        }

        if (used && queue.NeedsNotification())
        {
            interrupt?.SignalQueue(binding.Index);
        }
    }

    /// <summary>
    /// The header from the head descriptor (device-readable, at least 44 bytes) and its data: the rest of
    /// the head when it is the only descriptor, else the following device-readable descriptors.
    /// </summary>
    private bool TryReadTxPacket(ref DescriptorChain chain, out VsockHeader header)
    {
        header = default;
        txData.Clear();
        if (!chain.TryNext(out var head))
        {
            return TxError("HdrDescMissing");
        }

        if (head.IsWriteOnly)
        {
            return TxError("UnreadableDescriptor");
        }

        if (head.Length < VsockHeader.Size)
        {
            return TxError($"HdrDescTooSmall({head.Length})");
        }

        var headBytes = chain.Buffer(head);
        header = VsockHeader.Read(headBytes);
        if (header.Length == 0)
        {
            return true;
        }

        if (header.Length > MaxPacketData)
        {
            return TxError($"InvalidPktLen({header.Length})");
        }

        var missing = header.Length;
        if (!head.HasNext)
        {
            var rest = headBytes[VsockHeader.Size..];
            if (rest.Length < missing)
            {
                return TxError("BufDescTooSmall");
            }

            txData.TryAdd(rest[..(int)missing]);
            return true;
        }

        while (missing > 0 && chain.TryNext(out var descriptor))
        {
            if (descriptor.IsWriteOnly)
            {
                return TxError("UnreadableDescriptor");
            }

            var take = (int)Math.Min(descriptor.Length, missing);
            txData.TryAdd(chain.Buffer(descriptor)[..take]);
            missing -= (uint)take;
        }

        return missing == 0 || TxError(txData.Count == 0 ? "BufDescMissing" : "BufDescTooSmall");
    }

    /// <summary>The header buffer (device-writable, at least 44 bytes) and room for data after it or in the descriptors that follow.</summary>
    private bool TryReadRxBuffers(ref DescriptorChain chain, out Span<byte> header)
    {
        header = default;
        rxData.Clear();
        if (!chain.TryNext(out var head))
        {
            return RxError("HdrDescMissing");
        }

        if (!head.IsWriteOnly)
        {
            return RxError("UnwritableDescriptor");
        }

        if (head.Length < VsockHeader.Size)
        {
            return RxError($"HdrDescTooSmall({head.Length})");
        }

        // Straight from guest memory: a span from Buffer(in head) could not leave this method.
        var headBytes = chain.Memory.GetSpan(head.Address, (int)head.Length);
        header = headBytes[..VsockHeader.Size];
        if (!head.HasNext)
        {
            rxData.TryAdd(headBytes[VsockHeader.Size..]);
            return true;
        }

        while (chain.TryNext(out var descriptor))
        {
            if (!descriptor.IsWriteOnly)
            {
                return RxError("UnwritableDescriptor");
            }

            rxData.TryAdd(chain.Buffer(descriptor));
        }

        return true;
    }

    private bool TxError(string error)
    {
        Log.Error($"{id}: vsock: error reading TX packet: {error}");
        return false;
    }

    private bool RxError(string error)
    {
        Log.Warn($"{id}: vsock: RX queue error: {error}");
        return false;
    }
}
