using System.Buffers.Binary;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Block;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>A virtio-blk device over a temporary image, driven through the transport by <see cref="VirtioGuestDriver"/>.</summary>
internal sealed class BlockTestRig : IDisposable
{
    public const ushort QueueSize = 128;
    public const ulong Header = 0x4_0000;
    public const ulong Data = 0x5_0000;
    public const ulong Status = 0x4_F000;

    private ushort nextDescriptor;

    public BlockTestRig(byte[] contents, bool readOnly = false, bool sparse = true, bool disableSector0Writes = false,
        byte[]? serial = null, ulong? features = null, string id = "_disk0", int numQueues = 1, RateLimiter? limiter = null, IWakeTimer? wakeTimer = null)
    {
        ImagePath = Path.Combine(Path.GetTempPath(), $"blk-{Guid.NewGuid():N}.img");
        File.WriteAllBytes(ImagePath, contents);
        var image = DiskImage.Open(ImagePath, readOnly, useDirect: false);
        Device = new VirtioBlock(image, new BlockDeviceOptions(id, numQueues, QueueSize, serial ?? DiskImage.DefaultSerial(ImagePath), sparse, disableSector0Writes), limiter, wakeTimer);
        Driver = new VirtioGuestDriver(Device);
        Driver.EnableMsix();
        Driver.Negotiate(features ?? Device.AvailableFeatures);
        for (var q = 0; q < numQueues; q++)
        {
            Driver.SetupQueue(q, QueueSize);
        }

        Driver.DriverOk();
    }

    public string ImagePath { get; }

    public VirtioBlock Device { get; }

    public VirtioGuestDriver Driver { get; }

    public byte[] FileBytes() => File.ReadAllBytes(ImagePath);

    /// <summary>Submits header + data buffers + status byte; waits for the used entry; returns (status, used length).</summary>
    public (byte Status, uint Length) Submit(uint type, ulong sector, params (ulong Address, uint Length, bool DeviceWrites)[] data)
    {
        var header = Driver.Memory.GetSpan(Header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], sector);
        Driver.Memory.GetSpan(Status, 1)[0] = 0xFF;
        var chain = new List<(ulong, uint, ushort)> { (Header, 16, 0) };
        chain.AddRange(data.Select(d => (d.Address, d.Length, d.DeviceWrites ? VirtqDescriptor.FlagWrite : (ushort)0)));
        chain.Add((Status, 1, VirtqDescriptor.FlagWrite));
        return SubmitRaw(chain.ToArray());
    }

    /// <summary>Publishes a read of <paramref name="length"/> bytes at <paramref name="sector"/> into <paramref name="buffer"/> and kicks, without waiting.</summary>
    public void PostRead(ulong sector, ulong buffer, uint length, ulong header, ulong status)
    {
        var bytes = Driver.Memory.GetSpan(header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], sector);
        Driver.Memory.GetSpan(status, 1)[0] = 0xFF;
        var head = Chain([(header, 16, 0), (buffer, length, VirtqDescriptor.FlagWrite), (status, 1, VirtqDescriptor.FlagWrite)]);
        Driver.Publish(0, head, QueueSize);
        Driver.Kick(0);
    }

    /// <summary>Chains raw (address, length, flags) descriptors (NEXT added), publishes and waits.</summary>
    public (byte Status, uint Length) SubmitRaw(params (ulong Address, uint Length, ushort Flags)[] chain)
    {
        var head = Chain(chain);
        var expected = (ushort)(Driver.UsedIdx(0) + 1);
        Driver.Publish(0, head, QueueSize);
        Driver.Kick(0);
        if (!Driver.WaitUsed(0, expected))
        {
            throw new TimeoutException("the device returned no used buffer");
        }

        var (id, length) = Driver.UsedEntry(0, (expected - 1) % QueueSize);
        Assert.Equal(head, (ushort)id);
        return (Driver.Memory.GetSpan(Status, 1)[0], length);
    }

    /// <summary>Writes the chain into the descriptor table and returns its head (not yet published).</summary>
    public ushort Chain((ulong Address, uint Length, ushort Flags)[] chain)
    {
        if (nextDescriptor + chain.Length > QueueSize)
        {
            nextDescriptor = 0;
        }

        var head = nextDescriptor;
        for (var i = 0; i < chain.Length; i++)
        {
            var last = i == chain.Length - 1;
            Driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), head + i, chain[i].Address, chain[i].Length,
                (ushort)(chain[i].Flags | (last ? 0 : VirtqDescriptor.FlagNext)), (ushort)(head + i + 1));
        }

        nextDescriptor += (ushort)chain.Length;
        return head;
    }

    public void Dispose()
    {
        Driver.Dispose();
        File.Delete(ImagePath);
    }
}
