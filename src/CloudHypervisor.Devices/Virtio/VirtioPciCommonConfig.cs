using System.Buffers.Binary;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// The common configuration structure (VIRTIO 1.2 §4.1.4.3): feature negotiation, device status,
/// queue selection and programming, MSI-X vectors. Register accesses come from the transport under
/// its lock; the I/O thread only reads the vectors and ORs status bits in.
/// </summary>
public sealed class VirtioPciCommonConfig
{
    public const ulong DeviceFeatureSelect = 0x00;
    public const ulong DeviceFeature = 0x04;
    public const ulong DriverFeatureSelect = 0x08;
    public const ulong DriverFeature = 0x0C;
    public const ulong MsixConfig = 0x10;
    public const ulong NumQueues = 0x12;
    public const ulong DeviceStatusOffset = 0x14;
    public const ulong ConfigGeneration = 0x15;
    public const ulong QueueSelect = 0x16;
    public const ulong QueueSize = 0x18;
    public const ulong QueueMsixVector = 0x1A;
    public const ulong QueueEnable = 0x1C;
    public const ulong QueueNotifyOff = 0x1E;
    public const ulong QueueDesc = 0x20;
    public const ulong QueueDriver = 0x28;
    public const ulong QueueDevice = 0x30;

    private readonly string id;
    private readonly ulong offeredFeatures;
    private readonly IReadOnlyList<VirtQueue> queues;
    private readonly ushort[] queueVectors;
    private uint deviceFeatureSelect;
    private uint driverFeatureSelect;
    private ushort queueSelect;
    private int configVector = VirtioPciLayout.NoVector;
    private int status;
    private int generation;

    public VirtioPciCommonConfig(string id, ulong offeredFeatures, IReadOnlyList<VirtQueue> queues)
    {
        this.id = id;
        this.offeredFeatures = offeredFeatures;
        this.queues = queues;
        queueVectors = new ushort[queues.Count];
        Array.Fill(queueVectors, VirtioPciLayout.NoVector);
    }

    /// <summary>The features the driver acknowledged (only those offered).</summary>
    public ulong DriverFeatures { get; private set; }

    public byte Status => (byte)Volatile.Read(ref status);

    public byte Generation => (byte)Volatile.Read(ref generation);

    public ushort ConfigVector => (ushort)Volatile.Read(ref configVector);

    /// <summary>Every initialisation step done and nothing failed: the device may run.</summary>
    public bool IsDriverReady => (Status & (DeviceStatus.Ready | DeviceStatus.Failed)) == DeviceStatus.Ready;

    public ushort QueueVector(int queue) => Volatile.Read(ref queueVectors[queue]);

    /// <summary>The device reports trouble: DEVICE_NEEDS_RESET (safe from any thread).</summary>
    public void SetNeedsReset() => Interlocked.Or(ref status, DeviceStatus.NeedsReset);

    /// <summary>The device configuration changed; drivers re-read it until the generation is stable.</summary>
    public void BumpGeneration() => Interlocked.Increment(ref generation);

    public void Reset()
    {
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        queueSelect = 0;
        DriverFeatures = 0;
        Volatile.Write(ref configVector, VirtioPciLayout.NoVector);
        for (var i = 0; i < queueVectors.Length; i++)
        {
            Volatile.Write(ref queueVectors[i], VirtioPciLayout.NoVector);
        }

        Volatile.Write(ref status, DeviceStatus.Reset);
    }

    public void Read(ulong offset, Span<byte> data)
    {
        switch (data.Length)
        {
            case 1:
                data[0] = offset switch
                {
                    DeviceStatusOffset => Status,
                    ConfigGeneration => Generation,
                    _ => 0,
                };
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(data, ReadWord(offset));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data, ReadDword(offset));
                break;
            case 8 when offset is QueueDesc or QueueDriver or QueueDevice:
                BinaryPrimitives.WriteUInt64LittleEndian(data, (ulong)ReadDword(offset + 4) << 32 | ReadDword(offset));
                break;
            default:
                data.Clear();
                break;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        switch (data.Length)
        {
            case 1 when offset == DeviceStatusOffset:
                WriteStatus(data[0]);
                break;
            case 2:
                WriteWord(offset, BinaryPrimitives.ReadUInt16LittleEndian(data));
                break;
            case 4:
                WriteDword(offset, BinaryPrimitives.ReadUInt32LittleEndian(data));
                break;
            case 8 when offset is QueueDesc or QueueDriver or QueueDevice:
                var value = BinaryPrimitives.ReadUInt64LittleEndian(data);
                WriteDword(offset, (uint)value);
                WriteDword(offset + 4, (uint)(value >> 32));
                break;
            default:
                Log.Warn($"{id}: invalid virtio common config write of {data.Length} bytes at 0x{offset:x}");
                break;
        }
    }

    private VirtQueue? SelectedQueue => queueSelect < queues.Count ? queues[queueSelect] : null;

    private ushort ReadWord(ulong offset) => offset switch
    {
        MsixConfig => ConfigVector,
        NumQueues => (ushort)queues.Count,
        QueueSelect => queueSelect,
        QueueSize => SelectedQueue?.Size ?? 0,
        QueueMsixVector => queueSelect < queueVectors.Length ? QueueVector(queueSelect) : VirtioPciLayout.NoVector,
        QueueEnable => SelectedQueue is { Ready: true } ? (ushort)1 : (ushort)0,
        QueueNotifyOff => queueSelect,
        _ => 0,
    };

    private uint ReadDword(ulong offset)
    {
        var queue = SelectedQueue;
        return offset switch
        {
            DeviceFeatureSelect => deviceFeatureSelect,
            DeviceFeature => deviceFeatureSelect < 2 ? (uint)(offeredFeatures >> (int)(deviceFeatureSelect * 32)) : 0,
            DriverFeatureSelect => driverFeatureSelect,
            DriverFeature => driverFeatureSelect < 2 ? (uint)(DriverFeatures >> (int)(driverFeatureSelect * 32)) : 0,
            QueueDesc => (uint)(queue?.DescriptorTable ?? 0),
            QueueDesc + 4 => (uint)((queue?.DescriptorTable ?? 0) >> 32),
            QueueDriver => (uint)(queue?.AvailRing ?? 0),
            QueueDriver + 4 => (uint)((queue?.AvailRing ?? 0) >> 32),
            QueueDevice => (uint)(queue?.UsedRing ?? 0),
            QueueDevice + 4 => (uint)((queue?.UsedRing ?? 0) >> 32),
            _ => 0,
        };
    }

    private void WriteWord(ulong offset, ushort value)
    {
        var vectors = queueVectors.Length + 1;
        switch (offset)
        {
            case MsixConfig:
                Volatile.Write(ref configVector, value < vectors ? value : VirtioPciLayout.NoVector);
                break;
            case QueueSelect:
                queueSelect = value;
                break;
            case QueueMsixVector when queueSelect < queueVectors.Length:
                Volatile.Write(ref queueVectors[queueSelect], value < vectors ? value : VirtioPciLayout.NoVector);
                break;
            case QueueSize when QueueWritable() is { } queue:
                queue.Size = value;
                break;
            case QueueEnable when QueueWritable() is { } queue:
                // Writing 0 is not allowed to the driver and is ignored; a queue is disabled by reset only.
                if (value == 1)
                {
                    queue.Ready = true;
                }

                break;
        }
    }

    private void WriteDword(ulong offset, uint value)
    {
        switch (offset)
        {
            case DeviceFeatureSelect:
                deviceFeatureSelect = value;
                return;
            case DriverFeatureSelect:
                driverFeatureSelect = value;
                return;
            case DriverFeature:
                AcknowledgeFeatures(value);
                return;
        }

        if (offset is < QueueDesc or >= QueueDevice + 8 || QueueWritable() is not { } queue)
        {
            return;
        }

        static ulong Merge(ulong current, ulong offset, uint value) =>
            offset % 8 == 0 ? (current & 0xFFFF_FFFF_0000_0000) | value : (current & 0xFFFF_FFFF) | (ulong)value << 32;

        switch (offset & ~7UL)
        {
            case QueueDesc:
                queue.DescriptorTable = Merge(queue.DescriptorTable, offset, value);
                break;
            case QueueDriver:
                queue.AvailRing = Merge(queue.AvailRing, offset, value);
                break;
            case QueueDevice:
                queue.UsedRing = Merge(queue.UsedRing, offset, value);
                break;
        }
    }

    private void AcknowledgeFeatures(uint value)
    {
        if ((Status & (DeviceStatus.Driver | DeviceStatus.FeaturesOk)) != DeviceStatus.Driver || driverFeatureSelect >= 2)
        {
            Log.Warn($"{id}: ignoring driver features 0x{value:x} (page {driverFeatureSelect}) written in device status 0x{Status:x}");
            return;
        }

        var shift = (int)(driverFeatureSelect * 32);
        var page = (ulong)value << shift;
        var unknown = page & ~offeredFeatures;
        if (unknown != 0)
        {
            Log.Warn($"{id}: Received acknowledge request for unknown feature: 0x{page:x}");
        }

        DriverFeatures = (DriverFeatures & ~(0xFFFF_FFFFUL << shift)) | (page & offeredFeatures);
    }

    /// <summary>The selected queue, when the driver may program queues: after FEATURES_OK, before DRIVER_OK.</summary>
    private VirtQueue? QueueWritable()
    {
        if ((Status & (DeviceStatus.FeaturesOk | DeviceStatus.DriverOk | DeviceStatus.Failed)) != DeviceStatus.FeaturesOk)
        {
            Log.Warn($"{id}: queue configuration write ignored in device status 0x{Status:x}");
            return null;
        }

        return SelectedQueue;
    }

    /// <summary>
    /// The status state machine: 0 resets, FAILED may be set at any time, otherwise each write adds
    /// exactly the next bit (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK). FEATURES_OK is refused
    /// unless the driver accepted VIRTIO_F_VERSION_1: this is a modern-only device.
    /// </summary>
    private void WriteStatus(byte value)
    {
        var current = Status;
        if (value == DeviceStatus.Reset)
        {
            Volatile.Write(ref status, DeviceStatus.Reset);
            return;
        }

        if ((value & DeviceStatus.Failed) != 0)
        {
            Interlocked.Or(ref status, DeviceStatus.Failed);
            return;
        }

        var kept = (byte)(current & ~DeviceStatus.NeedsReset);
        var next = kept switch
        {
            0 => DeviceStatus.Acknowledge,
            DeviceStatus.Acknowledge => DeviceStatus.Acknowledge | DeviceStatus.Driver,
            DeviceStatus.Acknowledge | DeviceStatus.Driver => DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk,
            DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk => DeviceStatus.Ready,
            _ => -1,
        };
        if (value != next)
        {
            Log.Warn($"{id}: invalid virtio device status transition: 0x{current:x} -> 0x{value:x}");
            return;
        }

        if (next == (DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk) && !VirtioFeatures.Has(DriverFeatures, VirtioFeatures.Version1))
        {
            Log.Warn($"{id}: driver did not accept VIRTIO_F_VERSION_1; FEATURES_OK refused (legacy drivers are not supported)");
            return;
        }

        Interlocked.Or(ref status, value);
    }
}
