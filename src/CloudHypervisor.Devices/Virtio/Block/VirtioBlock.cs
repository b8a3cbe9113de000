using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// virtio-blk (`_diskN`) over a raw image: upstream's features (FLUSH, CONFIG_WCE, BLK_SIZE, TOPOLOGY,
/// SEG_MAX, event index, indirect descriptors; WRITE_ZEROES when the file can punch or zero ranges and
/// DISCARD too with `sparse=on`; RO for `readonly=on`; MQ for several queues) and its configuration
/// space. All queues are served by one I/O thread named after the device.
/// </summary>
public sealed class VirtioBlock : IVirtioDevice
{
    /// <summary>seg_max is the queue size less the header and status descriptors.</summary>
    private const ushort MinimumQueueSize = 2;

    private readonly DiskImage disk;
    private readonly BlockConfigSpace config = new();
    private readonly BlockRequestExecutor executor;
    private readonly object gate = new();
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ulong ackedFeatures;
    private volatile bool readOnly;
    private volatile bool writeback = true;

    public VirtioBlock(DiskImage disk, BlockDeviceOptions options)
    {
        this.disk = disk;
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
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioBlock, activation.Queues, ProcessQueue);
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
        disk.Dispose();
    }

    /// <summary>Serves every available request; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        var queue = binding.Queue;
        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                var length = executor.Execute(queue, ref chain, readOnly, writeback);
                if (queue.IsBroken)
                {
                    return;
                }

                queue.AddUsed(chain.HeadIndex, length);
                used = true;
            }
        }
        while (queue.EnableNotification());

        if (used && queue.NeedsNotification())
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
