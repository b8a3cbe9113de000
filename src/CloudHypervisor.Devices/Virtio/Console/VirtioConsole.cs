using System.Buffers.Binary;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Console;

/// <summary>
/// virtio-console (`__console`, VIRTIO 1.2 §5.3) as upstream builds it: a single port (no
/// MULTIPORT), receiveq 0 and transmitq 1 of 256 each, VIRTIO_CONSOLE_F_SIZE offered. The guest's
/// transmitted bytes go straight from guest memory to the backend's sink; backend input waits in a
/// fixed buffer until the driver offers receive buffers. Both queues run on the device's I/O thread.
/// </summary>
public sealed class VirtioConsole : IVirtioDevice
{
    public const ushort QueueSize = 256;
    public const string DefaultId = "__console";
    public const int ReceiveQueue = 0;
    public const int TransmitQueue = 1;

    /// <summary>VIRTIO_CONSOLE_F_SIZE: cols and rows in the configuration space are valid.</summary>
    public const ulong FeatureSize = 1UL << 0;

    /// <summary>struct virtio_console_config: cols, rows (u16), max_nr_ports, emerg_wr (u32).</summary>
    public const int ConfigLength = 12;

    private readonly IByteSink output;
    private readonly ConsoleInputBuffer input = new();
    private readonly EventFd inputReady = new();
    private readonly object gate = new();
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private bool sizeNegotiated;
    private int size;
    private int droppedInput;

    public VirtioConsole(string id, IByteSink output, TerminalSize initialSize = default)
    {
        Id = id;
        this.output = output;
        size = Pack(initialSize);
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Console;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize, QueueSize];

    public ulong AvailableFeatures => VirtioFeatures.Version1 | FeatureSize;

    public int? ConfigSize => ConfigLength;

    /// <summary>The size the configuration space reports.</summary>
    public TerminalSize Size => Unpack(Volatile.Read(ref size));

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[ConfigLength];
        var current = Size;
        BinaryPrimitives.WriteUInt16LittleEndian(config, current.Columns);
        BinaryPrimitives.WriteUInt16LittleEndian(config[2..], current.Rows);
        BinaryPrimitives.WriteUInt32LittleEndian(config[4..], 1);
        data.Clear();
        if (offset < ConfigLength)
        {
            var available = config[(int)offset..];
            available[..Math.Min(available.Length, data.Length)].CopyTo(data);
        }
    }

    /// <summary>Upstream offers no VIRTIO_CONSOLE_F_EMERG_WRITE, so nothing in the space is writable.</summary>
    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data) =>
        Log.Warn($"{Id}: Ignoring write to read-only virtio-console configuration at offset 0x{offset:x}");

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            interrupt = activation.Interrupt;
            sizeNegotiated = VirtioFeatures.Has(activation.Features, FeatureSize);
            var bindings = new List<VirtioQueueBinding>(activation.Queues);
            foreach (var binding in activation.Queues)
            {
                if (binding.Index == ReceiveQueue)
                {
                    // Input arriving from the backend is one more reason to fill the receive queue.
                    bindings.Add(binding with { Notifier = inputReady });
                }
            }

            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioConsole, bindings, ProcessQueue);
            if (sizeNegotiated)
            {
                // As upstream: the driver reads the size once it is told the configuration changed.
                interrupt.SignalConfigChange();
            }
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
            interrupt = null;
            sizeNegotiated = false;
        }
    }

    public void Dispose()
    {
        Reset();
        inputReady.Dispose();
    }

    /// <summary>Queues backend input for the guest and wakes the I/O thread; callable from any thread.</summary>
    public void QueueInput(ReadOnlySpan<byte> bytes)
    {
        var kept = input.Enqueue(bytes);
        if (kept < bytes.Length && Interlocked.Exchange(ref droppedInput, 1) == 0)
        {
            Log.Warn($"{Id}: The guest is not reading its console; dropping input beyond {ConsoleInputBuffer.Capacity} bytes");
        }

        if (kept > 0)
        {
            inputReady.Write();
        }
    }

    /// <summary>A new terminal size: the configuration space changes and, when the driver negotiated F_SIZE, it is told.</summary>
    public void Resize(TerminalSize newSize)
    {
        lock (gate)
        {
            if (Interlocked.Exchange(ref size, Pack(newSize)) != Pack(newSize) && sizeNegotiated)
            {
                interrupt?.SignalConfigChange();
            }
        }
    }

    /// <summary>Drains one queue; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        var used = binding.Index == TransmitQueue ? Transmit(binding.Queue) : Receive(binding.Queue);
        if (used && binding.Queue.NeedsNotification())
        {
            interrupt?.SignalQueue(binding.Index);
        }
    }

    private bool Transmit(VirtQueue queue)
    {
        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                while (chain.TryNext(out var descriptor))
                {
                    if (descriptor.IsWriteOnly)
                    {
                        Log.Warn($"{Id}: Skipping device-writable descriptor on the transmit queue");
                        continue;
                    }

                    if (descriptor.Length > 0)
                    {
                        output.Write(chain.Buffer(descriptor));
                    }
                }

                if (queue.IsBroken)
                {
                    return used;
                }

                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
            }
        }
        while (queue.EnableNotification());

        return used;
    }

    private bool Receive(VirtQueue queue)
    {
        var used = false;
        do
        {
            queue.DisableNotification();
            while (!input.IsEmpty && queue.TryPop(out var chain))
            {
                uint written = 0;
                while (!input.IsEmpty && chain.TryNext(out var descriptor))
                {
                    if (!descriptor.IsWriteOnly)
                    {
                        Log.Warn($"{Id}: Skipping device-readable descriptor on the receive queue");
                        continue;
                    }

                    written += (uint)input.Dequeue(chain.Buffer(descriptor));
                }

                if (queue.IsBroken)
                {
                    return used;
                }

                queue.AddUsed(chain.HeadIndex, written);
                used = true;
            }
        }
        while (queue.EnableNotification() && !input.IsEmpty);

        return used;
    }

    private static int Pack(TerminalSize s) => s.Columns | s.Rows << 16;

    private static TerminalSize Unpack(int packed) => new((ushort)packed, (ushort)(packed >> 16));

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
