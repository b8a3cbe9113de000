using System.Buffers.Binary;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// virtio-net (`_netN`, VIRTIO 1.2 §5.1) over a TAP as upstream builds it: one receive/transmit queue pair
/// plus the control queue, all of <c>queue_size</c>; MAC, STATUS (link up), CTRL_VQ, MQ (one pair),
/// GUEST_ANNOUNCE, MTU when set, and the checksum, TSO and UFO offloads the switches allow. No
/// MRG_RXBUF: the driver posts buffers large enough for a whole frame. Configuration space:
/// mac[6], status, max_virtqueue_pairs, mtu (u16), speed (u32), duplex (u8).
/// </summary>
public sealed class VirtioNet : IVirtioDevice
{
    public const int ReceiveQueue = 0;
    public const int TransmitQueue = 1;
    public const int ControlQueue = 2;
    public const int ConfigLength = 17;
    public const ushort StatusLinkUp = 1;

    private readonly Tap tap;
    private readonly byte[] config = new byte[ConfigLength];
    private readonly object gate = new();
    private NetWorker? worker;

    public VirtioNet(Tap tap, NetDeviceOptions options)
    {
        if (options.Mac.Length != 6)
        {
            throw new VirtioException($"{options.Id}: a MAC address has 6 bytes, not {options.Mac.Length}");
        }

        this.tap = tap;
        Id = options.Id;
        QueueSize = options.QueueSize;
        QueueMaxSizes = [options.QueueSize, options.QueueSize, options.QueueSize];
        AvailableFeatures = NetFeatures.Offered(options.Mtu is not null, options.OffloadCsum, options.OffloadTso, options.OffloadUfo);
        options.Mac.CopyTo(config, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(6), StatusLinkUp);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(10), options.Mtu ?? 0);
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Net;

    public IReadOnlyList<ushort> QueueMaxSizes { get; }

    public ulong AvailableFeatures { get; }

    public int? ConfigSize => ConfigLength;

    public NetCounters Counters { get; } = new();

    /// <summary>The TAP interface the device is attached to.</summary>
    public string TapName => tap.Name;

    private ushort QueueSize { get; }

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset >= ConfigLength)
        {
            Log.Error($"{Id}: Failed to read config space at offset 0x{offset:x}");
            return;
        }

        var available = config.AsSpan((int)offset);
        available[..Math.Min(available.Length, data.Length)].CopyTo(data);
    }

    /// <summary>Nothing in virtio-net's configuration space is writable by the driver in VIRTIO 1.x.</summary>
    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data) =>
        Log.Warn($"{Id}: Ignoring write to read-only virtio-net configuration at offset 0x{offset:x}");

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            try
            {
                tap.SetOffload(NetFeatures.TapOffloads(activation.Features));
            }
            catch (TapException e)
            {
                Log.Error($"{Id}: Error programming tap offload: {e.Message}");
            }

            var pair = new NetQueuePair(Id, tap.Fd, QueueSize, Counters);
            var control = new NetControlQueue(Id, tap, 1);
            worker = new NetWorker($"{Id}_qp0", tap.Fd, pair, control, activation);
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
        }
    }

    public void Dispose()
    {
        Reset();
        tap.Dispose();
    }

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
