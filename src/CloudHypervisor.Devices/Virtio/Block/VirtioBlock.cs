using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// virtio-blk (`_diskN`) over a raw image: upstream's features (FLUSH, CONFIG_WCE, BLK_SIZE, TOPOLOGY,
/// SEG_MAX, event index, indirect descriptors; WRITE_ZEROES when the file can punch or zero ranges and
/// DISCARD too with `sparse=on`; RO for `readonly=on`; MQ for several queues) and its configuration
/// space. All queues are served by one I/O thread named after the device. With a rate limiter (its own
/// or a group's, shared with other disks) a request goes ahead only when the limiter admits it; otherwise
/// it stays in the ring and the queues are parked until the limiter's deadline, when the thread's wake
/// timer fires and they are processed again.
/// </summary>
public sealed class VirtioBlock : IVirtioDevice
{
    /// <summary>seg_max is the queue size less the header and status descriptors.</summary>
    private const ushort MinimumQueueSize = 2;

    private readonly DiskImage disk;
    private readonly BlockConfigSpace config = new();
    private readonly BlockRequestExecutor executor;
    private readonly object gate = new();
    private readonly RateLimiter? limiter;
    private readonly ThrottleWake? wake;
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ulong ackedFeatures;
    private volatile bool readOnly;
    private volatile bool writeback = true;

    /// <param name="limiter">The disk's limiter (`bw_*`/`ops_*`), or its group's.</param>
    /// <param name="wakeTimer">Wakes the I/O thread when the limiter unblocks (a timerfd unless given; tests pass a fake).</param>
    public VirtioBlock(DiskImage disk, BlockDeviceOptions options, RateLimiter? limiter = null, IWakeTimer? wakeTimer = null)
    {
        this.disk = disk;
        this.limiter = limiter;
        if (limiter is not null)
        {
            wake = new ThrottleWake(wakeTimer ?? new TimerFdWakeTimer());
        }

        Id = options.Id;
        QueueMaxSizes = Enumerable.Repeat(options.QueueSize, options.NumQueues).ToArray();
        if (disk.LogicalSize % DiskImage.SectorSize != 0)
        {
            Log.Warn($"Disk size {disk.LogicalSize} is not a multiple of sector size {DiskImage.SectorSize}; the remainder will not be visible to the guest.");
        }

        var features = VirtioFeatures.Version1 | BlockFeatures.Flush | BlockFeatures.ConfigWce | BlockFeatures.BlkSize
            | BlockFeatures.Topology | BlockFeatures.SegMax | VirtioFeatures.RingEventIdx | VirtioFeatures.RingIndirectDesc;
        var discard = false;
        if (disk.SupportsSparseOperations)
        {
            features |= BlockFeatures.WriteZeroes;
            if (options.Sparse)
            {
                features |= BlockFeatures.Discard;
                discard = true;
            }
        }
        else if (options.Sparse)
        {
            Log.Warn("sparse=on requested but backend does not support sparse operations");
        }

        if (disk.ReadOnly)
        {
            features |= BlockFeatures.ReadOnly;
        }

        config.Capacity = disk.Sectors;
        config.Writeback = 1;
        config.BlkSize = DiskImage.SectorSize;
        config.MinIoSize = 1;
        config.SegMax = (uint)(options.QueueSize - MinimumQueueSize);
        if ((features & BlockFeatures.WriteZeroes) != 0)
        {
            config.MaxWriteZeroesSectors = uint.MaxValue;
            config.MaxWriteZeroesSeg = 1;
            config.WriteZeroesMayUnmap = discard ? (byte)1 : (byte)0;
        }

        if (discard)
        {
            config.MaxDiscardSectors = uint.MaxValue;
            config.MaxDiscardSeg = 1;
            config.DiscardSectorAlignment = 1;
        }

        if (options.NumQueues > 1)
        {
            features |= BlockFeatures.MultiQueue;
            config.NumQueues = (ushort)options.NumQueues;
        }

        AvailableFeatures = features;
        executor = new BlockRequestExecutor(disk, options, Counters);
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Block;

    public IReadOnlyList<ushort> QueueMaxSizes { get; }

    public ulong AvailableFeatures { get; }

    public int? ConfigSize => BlockConfigSpace.Size;

    public BlockCounters Counters { get; } = new();

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        lock (gate)
        {
            config.Read(offset, data);
        }
    }

    /// <summary>Only <c>writeback</c> is writable (with CONFIG_WCE it switches between writeback and writethrough).</summary>
    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset != BlockConfigSpace.WritebackOffset || data.Length != 1)
        {
            Log.Error($"Attempt to write to read-only field: offset {offset:x} length {data.Length}");
            return;
        }

        lock (gate)
        {
            SetWritebackMode(WritebackFor(ackedFeatures, data[0] != 0));
        }
    }

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            ackedFeatures = activation.Features;
            readOnly = VirtioFeatures.Has(ackedFeatures, BlockFeatures.ReadOnly);
            SetWritebackMode(WritebackFor(ackedFeatures, config.Writeback != 0));
            interrupt = activation.Interrupt;
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioBlock, activation.Queues, ProcessQueue, wake: wake);
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
            ackedFeatures = 0;
        }
    }

    public void Dispose()
    {
        Reset();
        wake?.Dispose();
        disk.Dispose();
    }

    /// <summary>Serves every available request the limiter admits; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        var queue = binding.Queue;
        if (limiter is not null && limiter.IsBlocked)
        {
            wake!.ParkUntilUnblocked(limiter);
            return;
        }

        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                var length = executor.Execute(queue, ref chain, readOnly, writeback, limiter);
                if (queue.IsBroken)
                {
                    return;
                }

                if (length == BlockRequestExecutor.Throttled)
                {
                    // Back into the ring; notifications stay off until the wake timer brings the thread back.
                    queue.UndoPop();
                    wake!.ParkUntilUnblocked(limiter!);
                    Signal(binding, used);
                    return;
                }

                queue.AddUsed(chain.HeadIndex, length);
                used = true;
            }
        }
        while (queue.EnableNotification());

        Signal(binding, used);
    }

    private void Signal(VirtioQueueBinding binding, bool used)
    {
        if (used && binding.Queue.NeedsNotification())
        {
            interrupt?.SignalQueue(binding.Index);
        }
    }

    /// <summary>
    /// VIRTIO 1.2 §5.2.5.1: with CONFIG_WCE the driver's choice stands (if FLUSH is also negotiated);
    /// without it, FLUSH alone means a writeback cache.
    /// </summary>
    private static bool WritebackFor(ulong features, bool desired)
    {
        var flush = VirtioFeatures.Has(features, BlockFeatures.Flush);
        return VirtioFeatures.Has(features, BlockFeatures.ConfigWce) ? flush && desired : flush;
    }

    private void SetWritebackMode(bool enabled)
    {
        config.Writeback = enabled ? (byte)1 : (byte)0;
        writeback = enabled;
        Log.Info($"Changing cache mode to {(enabled ? "writeback" : "writethrough")}");
    }

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
