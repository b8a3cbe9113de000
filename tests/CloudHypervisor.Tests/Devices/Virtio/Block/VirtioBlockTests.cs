using System.Buffers.Binary;
using System.Text;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Block;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>virtio-blk end to end through the transport: every request type against a real file.</summary>
public sealed class VirtioBlockTests
{
    private const uint In = 0, Out = 1, Flush = 4, GetId = 8, Discard = 11, WriteZeroes = 13;
    private const int Sectors = 64;

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void OffersUpstreamsFeaturesAndConfigurationSpace()
    {
        using var rig = new BlockTestRig(new byte[Sectors * 512 + 100]);
        var features = rig.Device.AvailableFeatures;
        foreach (var bit in new[] { 32, 9, 11, 6, 10, 2, 29, 28, 14, 13 })
        {
            Assert.True((features & (1UL << bit)) != 0, $"feature bit {bit} not offered");
        }

        Assert.Equal(0UL, features & (BlockFeatures.ReadOnly | BlockFeatures.MultiQueue));
        Span<byte> config = stackalloc byte[BlockConfigSpace.Size];
        rig.Device.ReadConfig(0, config);
        Assert.Equal((ulong)Sectors, BinaryPrimitives.ReadUInt64LittleEndian(config));
        Assert.Equal(126u, BinaryPrimitives.ReadUInt32LittleEndian(config[12..]));
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32LittleEndian(config[20..]));
        Assert.Equal(1, config[32]);
        Assert.Equal(uint.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(config[36..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config[40..]));
        Assert.Equal(1, config[56]);
    }

    [Fact]
    public void ReadOnlyAndMultiQueueAreOffered()
    {
        using var rig = new BlockTestRig(new byte[4096], readOnly: true, numQueues: 2);
        Assert.NotEqual(0UL, rig.Device.AvailableFeatures & BlockFeatures.ReadOnly);
        Assert.NotEqual(0UL, rig.Device.AvailableFeatures & BlockFeatures.MultiQueue);
        Span<byte> numQueues = stackalloc byte[2];
        rig.Device.ReadConfig(34, numQueues);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(numQueues));
    }

    [Fact]
    public void ReadsScatteredBuffersFromTheRightOffset()
    {
        var image = Pattern(Sectors * 512, 1);
        using var rig = new BlockTestRig(image);

        var (status, length) = rig.Submit(In, 3, (BlockTestRig.Data, 512, true), (BlockTestRig.Data + 0x3000, 1024, true));

        Assert.Equal(BlockStatus.Ok, status);
        Assert.Equal(1537u, length);
        Assert.Equal(image[(3 * 512)..(4 * 512)], rig.Driver.Memory.GetSpan(BlockTestRig.Data, 512).ToArray());
        Assert.Equal(image[(4 * 512)..(6 * 512)], rig.Driver.Memory.GetSpan(BlockTestRig.Data + 0x3000, 1024).ToArray());
        var counters = rig.Device.Counters.Snapshot().ToDictionary(c => c.Key, c => c.Value);
        Assert.Equal(1536UL, counters["read_bytes"]);
        Assert.Equal(1UL, counters["read_ops"]);
        Assert.Equal(ulong.MaxValue, counters["write_latency_min"]);
        Assert.Equal(ulong.MaxValue / 10000, counters["write_latency_avg"]);
    }

    [Fact]
    public void WritesLandAtTheSectorsOffsetAndFlushSucceeds()
    {
        using var rig = new BlockTestRig(new byte[Sectors * 512]);
        var data = Pattern(2048, 2);
        data.CopyTo(rig.Driver.Memory.GetSpan(BlockTestRig.Data, 2048));

        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Out, 10, (BlockTestRig.Data, 2048, false)));
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Flush, 0));

        var file = rig.FileBytes();
        Assert.Equal(data, file[(10 * 512)..(14 * 512)]);
        Assert.All(file[..(10 * 512)], b => Assert.Equal(0, b));
        var counters = rig.Device.Counters.Snapshot().ToDictionary(c => c.Key, c => c.Value);
        Assert.Equal(2048UL, counters["write_bytes"]);
        Assert.Equal(1UL, counters["write_ops"]);
        Assert.NotEqual(ulong.MaxValue, counters["write_latency_max"]);
    }

    [Theory]
    [InlineData(Sectors, 512u)]
    [InlineData(Sectors - 1, 1024u)]
    [InlineData(ulong.MaxValue, 512u)]
    [InlineData(ulong.MaxValue / 512, 512u)]
    public void RequestsBeyondTheCapacityFailWithIoError(ulong sector, uint length)
    {
        using var rig = new BlockTestRig(new byte[Sectors * 512]);
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(In, sector, (BlockTestRig.Data, length, true)));
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(Out, sector, (BlockTestRig.Data, length, false)));
        Assert.Equal(Sectors * 512, rig.FileBytes().Length);
    }

    [Fact]
    public void ReadOnlyDiskRefusesWritesButServesReadsAndFlushes()
    {
        var image = Pattern(Sectors * 512, 3);
        using var rig = new BlockTestRig(image, readOnly: true);

        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(Out, 1, (BlockTestRig.Data, 512, false)));
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(WriteZeroes, 0, Segment(rig, 1, 1, 0)));
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Flush, 0));
        Assert.Equal((BlockStatus.Ok, 513u), rig.Submit(In, 1, (BlockTestRig.Data, 512, true)));
        Assert.Equal(image, rig.FileBytes());
    }

    [Fact]
    public void Sector0WritesAreRefusedWhenTheImageTypeWasAutodetected()
    {
        using var rig = new BlockTestRig(new byte[Sectors * 512], disableSector0Writes: true);
        rig.Driver.Memory.GetSpan(BlockTestRig.Data, 512).Fill(0x5A);

        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(Out, 0, (BlockTestRig.Data, 512, false)));
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Out, 1, (BlockTestRig.Data, 512, false)));
        var file = rig.FileBytes();
        Assert.All(file[..512], b => Assert.Equal(0, b));
        Assert.All(file[512..1024], b => Assert.Equal(0x5A, b));
    }

    [Fact]
    public void GetIdReturnsTheSerial()
    {
        using var rig = new BlockTestRig(new byte[4096], serial: Encoding.ASCII.GetBytes("my-serial"));
        rig.Driver.Memory.GetSpan(BlockTestRig.Data, 20).Fill(0xEE);

        Assert.Equal((BlockStatus.Ok, 10u), rig.Submit(GetId, 0, (BlockTestRig.Data, 20, true)));
        Assert.Equal("my-serial", Encoding.ASCII.GetString(rig.Driver.Memory.GetSpan(BlockTestRig.Data, 9)));
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(GetId, 0, (BlockTestRig.Data, 4, true)));
    }

    [Fact]
    public void TheDefaultSerialIsTheImagesDeviceAndInodeNumbers()
    {
        var path = Path.GetTempFileName();
        try
        {
            var serial = DiskImage.DefaultSerial(path);
            Assert.Equal(20, serial.Length);
            var digits = Encoding.ASCII.GetString(serial).TrimEnd('\0');
            Assert.NotEmpty(digits);
            Assert.All(digits, c => Assert.True(char.IsAsciiDigit(c)));
            Assert.All(DiskImage.DefaultSerial("/nonexistent/disk"), b => Assert.Equal(0, b));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DiscardPunchesAHoleAndWriteZeroesZeroesTheRange()
    {
        var image = Pattern(Sectors * 512, 4);
        Array.Fill(image, (byte)0x11, 0, 512);
        using var rig = new BlockTestRig(image);

        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Discard, 0, Segment(rig, 8, 8, 0)));
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(WriteZeroes, 0, Segment(rig, 20, 4, 0)));
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(WriteZeroes, 0, Segment(rig, 30, 2, 1)));

        var file = rig.FileBytes();
        Assert.Equal(Sectors * 512, file.Length);
        Assert.All(file[(8 * 512)..(16 * 512)], b => Assert.Equal(0, b));
        Assert.All(file[(20 * 512)..(24 * 512)], b => Assert.Equal(0, b));
        Assert.All(file[(30 * 512)..(32 * 512)], b => Assert.Equal(0, b));
        Assert.Equal(image[(16 * 512)..(20 * 512)], file[(16 * 512)..(20 * 512)]);
        Assert.Equal(image[..(8 * 512)], file[..(8 * 512)]);
    }

    [Fact]
    public void DiscardAndWriteZeroesRejectBadSegments()
    {
        using var rig = new BlockTestRig(new byte[Sectors * 512]);
        Assert.Equal((BlockStatus.Unsupported, 1u), rig.Submit(Discard, 0, Segment(rig, 1, 1, 1)));
        Assert.Equal((BlockStatus.Unsupported, 1u), rig.Submit(WriteZeroes, 0, Segment(rig, 1, 1, 2)));
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(Discard, 0, Segment(rig, Sectors - 1, 2, 0)));
        Assert.Equal((BlockStatus.IoError, 1u), rig.Submit(WriteZeroes, 0, (BlockTestRig.Data, 32, false)));
    }

    [Fact]
    public void UnknownRequestTypesAreUnsupported()
    {
        using var rig = new BlockTestRig(new byte[4096]);
        Assert.Equal((BlockStatus.Unsupported, 1u), rig.Submit(2, 0, (BlockTestRig.Data, 16, false)));
        Assert.Equal((BlockStatus.Unsupported, 1u), rig.Submit(10, 0, (BlockTestRig.Data, 16, true)));
    }

    [Fact]
    public void MalformedChainsAreReturnedUnusedWithoutTouchingTheFile()
    {
        var image = Pattern(4096, 5);
        using var rig = new BlockTestRig(image);
        const ushort W = VirtqDescriptor.FlagWrite;

        // A write whose data buffer is device-writable; a read into a device-readable buffer; no status byte;
        // a header that the device would write; a header-only chain; a read-only status byte.
        Assert.Equal(0u, Write(rig, Out, 0, (BlockTestRig.Data, 512, W)).Length);
        Assert.Equal(0u, Write(rig, In, 0, (BlockTestRig.Data, 512, 0)).Length);
        Assert.Equal(0u, rig.SubmitRaw((BlockTestRig.Header, 16, 0), (BlockTestRig.Data, 512, 0)).Length);
        Assert.Equal(0u, rig.SubmitRaw((BlockTestRig.Header, 16, W), (BlockTestRig.Data, 512, W), (BlockTestRig.Status, 1, W)).Length);
        Assert.Equal(0u, rig.SubmitRaw((BlockTestRig.Header, 16, 0)).Length);
        Assert.Equal(0u, rig.SubmitRaw((BlockTestRig.Header, 16, 0), (BlockTestRig.Data, 512, 0), (BlockTestRig.Status, 1, 0)).Length);
        Assert.Equal(image, rig.FileBytes());

        // The queue still works.
        Assert.Equal((BlockStatus.Ok, 513u), rig.Submit(In, 0, (BlockTestRig.Data, 512, true)));
    }

    [Fact]
    public void AChainOutsideGuestRamBreaksTheQueueAndWritesNothing()
    {
        var image = Pattern(4096, 6);
        using var rig = new BlockTestRig(image);
        var header = rig.Driver.Memory.GetSpan(BlockTestRig.Header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(header, Out);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], 0);
        var head = rig.Chain([(BlockTestRig.Header, 16, 0), (BlockTestRig.Data, 512, 0), (VirtioGuestDriver.RamSize - 4, 64, VirtqDescriptor.FlagWrite)]);
        rig.Driver.Publish(0, head, BlockTestRig.QueueSize);
        rig.Driver.Kick(0);

        Assert.True(SpinWait.SpinUntil(() => (rig.Driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "no NEEDS_RESET");
        Assert.Equal(0, rig.Driver.UsedIdx(0));
        Assert.Equal(image, rig.FileBytes());
    }

    [Fact]
    public void WritethroughWhenTheDriverClearsWriteback()
    {
        using var rig = new BlockTestRig(new byte[4096]);
        rig.Device.WriteConfig(BlockConfigSpace.WritebackOffset, [0]);
        Span<byte> writeback = stackalloc byte[1];
        rig.Device.ReadConfig(BlockConfigSpace.WritebackOffset, writeback);
        Assert.Equal(0, writeback[0]);

        rig.Device.WriteConfig(0, [1, 2, 3, 4]);
        rig.Device.ReadConfig(0, writeback);
        Assert.Equal(8, writeback[0]);

        rig.Driver.Memory.GetSpan(BlockTestRig.Data, 512).Fill(0x77);
        Assert.Equal((BlockStatus.Ok, 1u), rig.Submit(Out, 2, (BlockTestRig.Data, 512, false)));
        Assert.All(rig.FileBytes()[1024..1536], b => Assert.Equal(0x77, b));
    }

    [Fact]
    public void IndirectChainsAreServed()
    {
        var image = Pattern(4096, 7);
        using var rig = new BlockTestRig(image);
        var header = rig.Driver.Memory.GetSpan(BlockTestRig.Header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(header, In);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], 2);
        const ulong table = 0x6_0000;
        rig.Driver.WriteDescriptor(table, 0, BlockTestRig.Header, 16, VirtqDescriptor.FlagNext, 1);
        rig.Driver.WriteDescriptor(table, 1, BlockTestRig.Data, 1024, VirtqDescriptor.FlagNext | VirtqDescriptor.FlagWrite, 2);
        rig.Driver.WriteDescriptor(table, 2, BlockTestRig.Status, 1, VirtqDescriptor.FlagWrite, 0);
        var head = rig.Chain([(table, 48, VirtqDescriptor.FlagIndirect)]);
        rig.Driver.Publish(0, head, BlockTestRig.QueueSize);
        rig.Driver.Kick(0);

        Assert.True(rig.Driver.WaitUsed(0, 1));
        Assert.Equal((uint)head, rig.Driver.UsedEntry(0, 0).Id);
        Assert.Equal(1025u, rig.Driver.UsedEntry(0, 0).Length);
        Assert.Equal(image[1024..2048], rig.Driver.Memory.GetSpan(BlockTestRig.Data, 1024).ToArray());
    }

    [Fact]
    public void ImageFormatsAreRecognisedByTheirMagic()
    {
        Assert.Equal(DiskImageFormat.Qcow2, DiskImageFormats.Detect([0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3], []));
        Assert.Equal(DiskImageFormat.Vhdx, DiskImageFormats.Detect("vhdxfile"u8, []));
        Assert.Equal(DiskImageFormat.FixedVhd, DiskImageFormats.Detect(new byte[8], "conectix"u8));
        Assert.Equal(DiskImageFormat.Raw, DiskImageFormats.Detect(new byte[8], new byte[8]));
    }

    [Fact]
    public void ASecondWriterIsRefusedTheLockButReadersShare()
    {
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, new byte[4096]);
        try
        {
            using var first = DiskImage.Open(path, readOnly: false, useDirect: false);
            first.Lock(wholeFile: false);
            using var second = DiskImage.Open(path, readOnly: false, useDirect: false);
            var e = Assert.Throws<DiskImageException>(() => second.Lock(wholeFile: false));
            Assert.Equal($"Failed to get Write lock for disk image: {path}", e.Message);
            Assert.Equal("The file is already locked", e.InnerException!.Message);
            first.Dispose();

            using var reader1 = DiskImage.Open(path, readOnly: true, useDirect: false);
            using var reader2 = DiskImage.Open(path, readOnly: true, useDirect: false);
            reader1.Lock(wholeFile: true);
            reader2.Lock(wholeFile: true);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DirectIoServesAlignedAndUnalignedBuffers()
    {
        var path = Path.Combine(Path.GetTempPath(), $"blk-direct-{Guid.NewGuid():N}.img");
        var image = Pattern(Sectors * 512, 8);
        File.WriteAllBytes(path, image);
        try
        {
            using var disk = DiskImage.Open(path, readOnly: false, useDirect: true);
            var device = new VirtioBlock(disk, new BlockDeviceOptions("_disk0", 1, BlockTestRig.QueueSize, new byte[20], true, false));
            using var driver = new VirtioGuestDriver(device);
            driver.Negotiate(device.AvailableFeatures);
            driver.SetupQueue(0, BlockTestRig.QueueSize);
            driver.DriverOk();
            WriteRequest(driver, 0, In, 4, BlockTestRig.Data, 4096, true);
            WriteRequest(driver, 3, In, 1, BlockTestRig.Data + 0x2003, 100, true);
            driver.Publish(0, 0, BlockTestRig.QueueSize);
            driver.Publish(0, 3, BlockTestRig.QueueSize);
            driver.Kick(0);
            Assert.True(driver.WaitUsed(0, 2));
            Assert.Equal(image[2048..6144], driver.Memory.GetSpan(BlockTestRig.Data, 4096).ToArray());
            Assert.Equal(image[512..612], driver.Memory.GetSpan(BlockTestRig.Data + 0x2003, 100).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void WriteRequest(VirtioGuestDriver driver, int first, uint type, ulong sector, ulong data, uint length, bool deviceWrites)
    {
        var header = BlockTestRig.Header + (ulong)first * 16;
        BinaryPrimitives.WriteUInt32LittleEndian(driver.Memory.GetSpan(header, 4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(driver.Memory.GetSpan(header + 8, 8), sector);
        var table = VirtioGuestDriver.DescTable(0);
        driver.WriteDescriptor(table, first, header, 16, VirtqDescriptor.FlagNext, (ushort)(first + 1));
        driver.WriteDescriptor(table, first + 1, data, length, (ushort)(VirtqDescriptor.FlagNext | (deviceWrites ? VirtqDescriptor.FlagWrite : 0)), (ushort)(first + 2));
        driver.WriteDescriptor(table, first + 2, BlockTestRig.Status + (ulong)first, 1, VirtqDescriptor.FlagWrite, 0);
    }

    private static (byte Status, uint Length) Write(BlockTestRig rig, uint type, ulong sector, (ulong Address, uint Length, ushort Flags) data)
    {
        var header = rig.Driver.Memory.GetSpan(BlockTestRig.Header, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], sector);
        return rig.SubmitRaw((BlockTestRig.Header, 16, 0), data, (BlockTestRig.Status, 1, VirtqDescriptor.FlagWrite));
    }

    private static (ulong, uint, bool) Segment(BlockTestRig rig, ulong sector, uint sectors, uint flags)
    {
        const ulong address = 0x7_0000;
        var segment = rig.Driver.Memory.GetSpan(address, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(segment, sector);
        BinaryPrimitives.WriteUInt32LittleEndian(segment[8..], sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(segment[12..], flags);
        return (address, 16, false);
    }
}
