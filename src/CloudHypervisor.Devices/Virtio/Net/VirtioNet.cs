using CloudHypervisor.Sys.Seccomp;
using System.Buffers.Binary;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// virtio-net (`_netN`, VIRTIO 1.2 §5.1) over a TAP as upstream builds it: one receive/transmit queue pair per
/// TAP queue, then the control queue, all of <c>queue_size</c>; MAC, STATUS (link up), CTRL_VQ, MQ
/// (max_virtqueue_pairs = the number of TAP queues), GUEST_ANNOUNCE, MTU when set, and the checksum, TSO and UFO
/// offloads the switches allow. No MRG_RXBUF: the driver posts buffers large enough for a whole frame.
/// Configuration space: mac[6], status, max_virtqueue_pairs, mtu (u16), speed (u32), duplex (u8).
/// Each pair runs on its own thread (<c>&lt;id&gt;_qpN</c>) with its own receive and transmit rate limiters
/// built from the one `bw_*`/`ops_*` configuration; the control queue has its thread (<c>&lt;id&gt;_ctrl</c>).
/// </summary>
public sealed class VirtioNet : IVirtioDevice
{
    public const int ReceiveQueue = 0;
    public const int TransmitQueue = 1;
    public const int ControlQueue = 2;
    public const int ConfigLength = 17;
    public const ushort StatusLinkUp = 1;

    private readonly IReadOnlyList<Tap> taps;
    private readonly byte[] config = new byte[ConfigLength];
    private readonly object gate = new();
    private readonly RateLimiterSettings? rateLimiter;
    private readonly IMonotonicClock clock;
    private readonly Func<IWakeTimer> newWakeTimer;
    private readonly List<IDisposable> workers = [];

    public VirtioNet(Tap tap, NetDeviceOptions options)
        : this([tap], options)
    {
    }

    /// <param name="taps">One TAP queue per queue pair.</param>
    /// <param name="clock">The limiters' clock (the host's unless given).</param>
    /// <param name="newWakeTimer">Makes each rate-limited pair's wake timer (a timerfd unless given).</param>
    public VirtioNet(IReadOnlyList<Tap> taps, NetDeviceOptions options, IMonotonicClock? clock = null, Func<IWakeTimer>? newWakeTimer = null)
    {
        if (options.Mac.Length != 6)
        {
            throw new VirtioException($"{options.Id}: a MAC address has 6 bytes, not {options.Mac.Length}");
        }

        if (taps.Count is < 1 or > MaxQueuePairs)
        {
            throw new VirtioException($"{options.Id}: between 1 and {MaxQueuePairs} queue pairs, not {taps.Count}");
        }

        this.taps = taps;
        Id = options.Id;
        QueueSize = options.QueueSize;
        QueuePairs = taps.Count;
        rateLimiter = options.RateLimiter;
        this.clock = clock ?? SystemMonotonicClock.Instance;
        this.newWakeTimer = newWakeTimer ?? (() => new TimerFdWakeTimer());
        QueueMaxSizes = Enumerable.Repeat(options.QueueSize, (2 * QueuePairs) + 1).ToArray();
        AvailableFeatures = NetFeatures.Offered(options.Mtu is not null, options.OffloadCsum, options.OffloadTso, options.OffloadUfo);
        options.Mac.CopyTo(config, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(6), StatusLinkUp);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(8), (ushort)QueuePairs);
        BinaryPrimitives.WriteUInt16LittleEndian(config.AsSpan(10), options.Mtu ?? 0);
    }

    /// <summary>VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX.</summary>
    public const int MaxQueuePairs = 0x8000;

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Net;

    public IReadOnlyList<ushort> QueueMaxSizes { get; }

    public ulong AvailableFeatures { get; }

    public int? ConfigSize => ConfigLength;

    public NetCounters Counters { get; } = new();

    /// <summary>The TAP interface the device is attached to.</summary>
    public string TapName => taps[0].Name;

    /// <summary>max_virtqueue_pairs: one per TAP queue.</summary>
    public int QueuePairs { get; }

    /// <summary>The control queue's index with MQ negotiated: after every pair (without MQ it is 2, after the first pair).</summary>
    public int ControlQueueIndex => 2 * QueuePairs;

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
            StopWorkers();
            foreach (var tap in taps)
            {
                try
                {
                    tap.SetOffload(NetFeatures.TapOffloads(activation.Features));
                }
                catch (TapException e)
                {
                    Log.Error($"{Id}: Error programming tap offload: {e.Message}");
                }
            }

            // VIRTIO 1.2 §5.1.2: without MQ the driver uses one pair and the control queue follows it.
            var pairs = VirtioFeatures.Has(activation.Features, NetFeatures.Mq) ? QueuePairs : 1;
            try
            {
                StartControlWorker(activation, 2 * pairs);
                for (var pair = 0; pair < pairs; pair++)
                {
                    StartPairWorker(pair, activation);
                }
            }
            catch
            {
                StopWorkers();
                throw;
            }
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorkers();
        }
    }

    public void Dispose()
    {
        Reset();
        foreach (var tap in taps)
        {
            tap.Dispose();
        }
    }

    /// <summary>Pair <paramref name="pair"/> (queues 2N and 2N+1, whichever the driver enabled) on thread <c>&lt;id&gt;_qpN</c>.</summary>
    private void StartPairWorker(int pair, VirtioActivation activation)
    {
        var receive = 2 * pair;
        var queues = new List<VirtioQueueBinding>(2);
        foreach (var binding in activation.Queues)
        {
            if (binding.Index == receive || binding.Index == receive + 1)
            {
                queues.Add(binding);
            }
        }

        if (queues.Count == 0)
        {
            return;
        }

        RateLimiter? rx = null, tx = null;
        ThrottleWake? wake = null;
        if (rateLimiter is not null)
        {
            rx = new RateLimiter(rateLimiter, clock);
            tx = new RateLimiter(rateLimiter, clock);
            wake = new ThrottleWake(newWakeTimer());
        }

        var queuePair = new NetQueuePair(Id, taps[pair].Fd, QueueSize, Counters, rx, tx, wake);
        workers.Add(new NetWorker($"{Id}_qp{pair}", taps[pair].Fd, receive, queuePair, queues, activation.Interrupt, wake));
    }

    /// <summary>The control queue (queue <paramref name="index"/>), when the driver enabled it, on thread <c>&lt;id&gt;_ctrl</c>.</summary>
    private void StartControlWorker(VirtioActivation activation, int index)
    {
        foreach (var binding in activation.Queues)
        {
            if (binding.Index == index)
            {
                var control = new NetControlQueue(Id, taps, (ushort)QueuePairs);
                var interrupt = activation.Interrupt;
                workers.Add(VirtioWorker.Start($"{Id}_ctrl", SeccompThreadKind.VirtioNet, [binding], b =>
                {
                    if (control.Process(b.Queue) && b.Queue.NeedsNotification())
                    {
                        interrupt.SignalQueue(b.Index);
                    }
                }));
            }
        }
    }

    private void StopWorkers()
    {
        foreach (var worker in workers)
        {
            worker.Dispose();
        }

        workers.Clear();
    }
}
