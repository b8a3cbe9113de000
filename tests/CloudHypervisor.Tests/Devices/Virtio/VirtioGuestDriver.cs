using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>
/// Plays a virtio-pci driver against a <see cref="VirtioPciDevice"/> over a small guest RAM buffer:
/// BAR accesses for the common configuration and notifications, ring building in guest memory.
/// </summary>
internal sealed class VirtioGuestDriver : IDisposable
{
    public const ulong BarBase = 0xE000_0000;
    public const ulong RamSize = 0x10_0000;

    private readonly ushort[] availIdx = new ushort[8];
    private readonly ushort[] nextDescriptor = new ushort[8];

    /// <summary>Drives <paramref name="device"/> over <see cref="RamSize"/> bytes of RAM at 0, backed as <paramref name="options"/> say (private anonymous by default).</summary>
    public VirtioGuestDriver(IVirtioDevice device, GuestMemoryOptions? options = null)
    {
        Memory = GuestMemory.Create([(0UL, RamSize)], options ?? new GuestMemoryOptions());
        Routing = new RecordingRouting();
        Pci = new VirtioPciDevice(device, Memory, Routing, BarBase, PciBarRegion.Memory64);
    }

    public GuestMemory Memory { get; }

    public VirtioPciDevice Pci { get; }

    public RecordingRouting Routing { get; }

    /// <summary>Where queue <c>q</c>'s rings live: descriptors, avail, used, 16 KiB per queue from 64 KiB.</summary>
    public static ulong DescTable(int q) => 0x1_0000 + (ulong)q * 0x4000;

    public static ulong AvailRing(int q) => DescTable(q) + 0x1000;

    public static ulong UsedRing(int q) => DescTable(q) + 0x2000;

    public byte ReadCommon8(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        Pci.Read(BarBase, offset, b);
        return b[0];
    }

    public ushort ReadCommon16(ulong offset)
    {
        Span<byte> b = stackalloc byte[2];
        Pci.Read(BarBase, offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint ReadCommon32(ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        Pci.Read(BarBase, offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public void Write8(ulong offset, byte value) => Pci.Write(BarBase, offset, [value]);

    public void Write16(ulong offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Pci.Write(BarBase, offset, b);
    }

    public void Write32(ulong offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Pci.Write(BarBase, offset, b);
    }

    public byte Status => ReadCommon8(VirtioPciCommonConfig.DeviceStatusOffset);

    public void WriteStatus(byte status) => Write8(VirtioPciCommonConfig.DeviceStatusOffset, status);

    public ulong DeviceFeatures()
    {
        Write32(VirtioPciCommonConfig.DeviceFeatureSelect, 0);
        ulong low = ReadCommon32(VirtioPciCommonConfig.DeviceFeature);
        Write32(VirtioPciCommonConfig.DeviceFeatureSelect, 1);
        return (ulong)ReadCommon32(VirtioPciCommonConfig.DeviceFeature) << 32 | low;
    }

    /// <summary>Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns the status read back.</summary>
    public byte Negotiate(ulong features)
    {
        WriteStatus(DeviceStatus.Reset);
        WriteStatus(DeviceStatus.Acknowledge);
        WriteStatus(DeviceStatus.Acknowledge | DeviceStatus.Driver);
        Write32(VirtioPciCommonConfig.DriverFeatureSelect, 0);
        Write32(VirtioPciCommonConfig.DriverFeature, (uint)features);
        Write32(VirtioPciCommonConfig.DriverFeatureSelect, 1);
        Write32(VirtioPciCommonConfig.DriverFeature, (uint)(features >> 32));
        WriteStatus(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk);
        return Status;
    }

    /// <summary>Programs queue <paramref name="q"/> at this harness's ring addresses, vector q + 1, and enables it.</summary>
    public void SetupQueue(int q, ushort size)
    {
        Memory.GetSpan(DescTable(q), 0x4000).Clear();
        availIdx[q] = 0;
        nextDescriptor[q] = 0;
        Write16(VirtioPciCommonConfig.QueueSelect, (ushort)q);
        Write16(VirtioPciCommonConfig.QueueSize, size);
        Write32(VirtioPciCommonConfig.QueueDesc, (uint)DescTable(q));
        Write32(VirtioPciCommonConfig.QueueDesc + 4, 0);
        Write32(VirtioPciCommonConfig.QueueDriver, (uint)AvailRing(q));
        Write32(VirtioPciCommonConfig.QueueDriver + 4, 0);
        Write32(VirtioPciCommonConfig.QueueDevice, (uint)UsedRing(q));
        Write32(VirtioPciCommonConfig.QueueDevice + 4, 0);
        Write16(VirtioPciCommonConfig.QueueMsixVector, (ushort)(q + 1));
        Write16(VirtioPciCommonConfig.QueueEnable, 1);
    }

    public void DriverOk() => WriteStatus(DeviceStatus.Ready);

    /// <summary>Enables MSI-X and unmasks every vector so signals show up in <see cref="Routing"/>.</summary>
    public void EnableMsix()
    {
        Pci.Msix.SetMessageControl(MsixCapability.EnableBit);
        for (var v = 0; v < Pci.Msix.VectorCount; v++)
        {
            Write32(VirtioPciLayout.MsixTableOffset + (ulong)v * 16 + 12, 0);
        }
    }

    /// <summary>Writes a raw descriptor into the table at <paramref name="table"/>.</summary>
    public void WriteDescriptor(ulong table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = Memory.GetSpan(table + (ulong)index * 16, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Chains device-writable buffers in queue <paramref name="q"/>'s table and makes the chain available; returns the head.</summary>
    public ushort OfferWritable(int q, params (ulong Address, uint Length)[] buffers)
    {
        var head = nextDescriptor[q];
        for (var i = 0; i < buffers.Length; i++)
        {
            var last = i == buffers.Length - 1;
            WriteDescriptor(DescTable(q), head + i, buffers[i].Address, buffers[i].Length,
                (ushort)(VirtqDescriptor.FlagWrite | (last ? 0 : VirtqDescriptor.FlagNext)), (ushort)(head + i + 1));
        }

        nextDescriptor[q] += (ushort)buffers.Length;
        Publish(q, head);
        return head;
    }

    /// <summary>Puts <paramref name="head"/> in the avail ring and bumps avail idx (queue size 256 assumed for wrap).</summary>
    public void Publish(int q, ushort head, ushort queueSize = 256)
    {
        Memory.WriteValue(AvailRing(q) + 4 + 2UL * (ulong)(availIdx[q] % queueSize), head);
        availIdx[q]++;
        Memory.WriteValue(AvailRing(q) + 2, availIdx[q]);
    }

    public void SetAvailIdx(int q, ushort value)
    {
        availIdx[q] = value;
        Memory.WriteValue(AvailRing(q) + 2, value);
    }

    public void Kick(int q) => Write16(VirtioPciLayout.QueueNotifyOffset(q), (ushort)q);

    public ushort UsedIdx(int q) => Memory.ReadValue<ushort>(UsedRing(q) + 2);

    public (uint Id, uint Length) UsedEntry(int q, int slot) =>
        (Memory.ReadValue<uint>(UsedRing(q) + 4 + (ulong)slot * 8), Memory.ReadValue<uint>(UsedRing(q) + 8 + (ulong)slot * 8));

    /// <summary>Waits for the device thread to publish <paramref name="idx"/> used entries.</summary>
    public bool WaitUsed(int q, ushort idx, int timeoutMs = 5000)
    {
        return SpinWait.SpinUntil(() => UsedIdx(q) == idx, timeoutMs);
    }

    public void Dispose()
    {
        Pci.Dispose();
        Memory.Dispose();
    }

    internal sealed class RecordingRouting : IMsixRouting
    {
        private readonly object gate = new();
        private readonly List<int> triggered = [];

        public int[] Triggered
        {
            get { lock (gate) { return [.. triggered]; } }
        }

        public void Update(int vector, MsiMessage message, bool masked)
        {
        }

        public void Disable(int vector)
        {
        }

        public void Trigger(int vector)
        {
            lock (gate)
            {
                triggered.Add(vector);
            }
        }
    }
}
