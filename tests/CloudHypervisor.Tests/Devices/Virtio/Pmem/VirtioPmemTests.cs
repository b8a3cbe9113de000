using System.Buffers.Binary;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Pmem;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.Virtio.Pmem;

/// <summary>virtio-pmem through the transport: its configuration space and FLUSH requests; and the file mapping behind it.</summary>
public sealed class VirtioPmemTests : IDisposable
{
    private const ulong TwoMiB = 2UL << 20;
    private const ulong Request = 0x4_0000;
    private const ulong Response = 0x4_1000;
    private readonly string path = Path.Combine(Path.GetTempPath(), $"pmem-{Guid.NewGuid():N}");

    public VirtioPmemTests()
    {
        var content = new byte[TwoMiB];
        content[0] = 0x5A;
        File.WriteAllBytes(path, content);
    }

    public void Dispose() => File.Delete(path);

    [Fact]
    public void OffersDeviceType27WithOneQueueAndItsRangeInConfigSpace()
    {
        using var driver = Start(0x1_0000_0000, TwoMiB);

        Assert.Equal((ushort)(0x1040 + 27), (ushort)(driver.Pci.ReadConfigRegister(0) >> 16));
        Assert.Equal(VirtioFeatures.Version1, driver.DeviceFeatures());
        Span<byte> config = stackalloc byte[16];
        driver.Pci.Read(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset, config[..8]);
        driver.Pci.Read(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset + 8, config[8..]);
        Assert.Equal(0x1_0000_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(config));
        Assert.Equal(TwoMiB, BinaryPrimitives.ReadUInt64LittleEndian(config[8..]));
    }

    [Fact]
    public void FlushIsAnsweredOk()
    {
        using var driver = Start(0x1_0000_0000, TwoMiB);
        driver.Memory.WriteValue(Request, VirtioPmem.RequestFlush);
        driver.Memory.WriteValue(Response, 0xFFFF_FFFFu);
        Chain(driver, Request, 4);
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1), "the flush was not answered");
        Assert.Equal((0u, 4u), driver.UsedEntry(0, 0));
        Assert.Equal(VirtioPmem.ResponseOk, driver.Memory.ReadValue<uint>(Response));
    }

    [Fact]
    public void AnUnknownRequestTypeIsReturnedUnanswered()
    {
        using var driver = Start(0x1_0000_0000, TwoMiB);
        driver.Memory.WriteValue(Request, 7u);
        driver.Memory.WriteValue(Response, 0xFFFF_FFFFu);
        Chain(driver, Request, 4);
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1));
        Assert.Equal((0u, 0u), driver.UsedEntry(0, 0));
        Assert.Equal(0xFFFF_FFFFu, driver.Memory.ReadValue<uint>(Response));
    }

    [Fact]
    public void AShortRequestIsReturnedUnanswered()
    {
        using var driver = Start(0x1_0000_0000, TwoMiB);
        Chain(driver, Request, 2);
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1));
        Assert.Equal((0u, 0u), driver.UsedEntry(0, 0));
    }

    [Fact]
    public void TheBackingTakesItsSizeFromTheFileAndSharesWrites()
    {
        using (var backing = PmemBacking.Open(path, null, discardWrites: false))
        {
            Assert.Equal(TwoMiB, backing.Size);
            unsafe
            {
                var bytes = (byte*)backing.Host;
                Assert.Equal(0x5A, bytes[0]);
                bytes[1] = 0xA5;
            }

            using var file = backing.TakeFile();
            Assert.Equal(0, Libc.Fsync(file.Fd));
        }

        Assert.Equal(0xA5, File.ReadAllBytes(path)[1]);
    }

    [Fact]
    public void DiscardWritesMapsTheFileReadOnlyAndPrivate()
    {
        using var backing = PmemBacking.Open(path, null, discardWrites: true);

        Assert.Equal(0, Libc.Mprotect(backing.Host, (nuint)TwoMiB, Libc.ProtRead | Libc.ProtWrite));
        unsafe
        {
            ((byte*)backing.Host)[1] = 0xA5;
        }

        Assert.Equal(0, File.ReadAllBytes(path)[1]);
    }

    [Fact]
    public void ASizeThatIsNotAMultipleOf2MiBIsRefused()
    {
        File.WriteAllBytes(path, new byte[4096]);

        var e = Assert.Throws<VirtioException>(() => PmemBacking.Open(path, null, discardWrites: false));
        Assert.Equal("Trying to use a size that is not multiple of 2MiB", e.Message);
    }

    [Fact]
    public void AMissingFileIsReportedWithTheOsError()
    {
        var e = Assert.Throws<VirtioException>(() => PmemBacking.Open("/nonexistent/pmem", null, discardWrites: false));
        Assert.Equal("Cannot open persistent memory file", e.Message);
        Assert.Contains("os error 2", e.InnerException!.Message);
    }

    private static void Chain(VirtioGuestDriver driver, ulong request, uint requestLength)
    {
        var table = VirtioGuestDriver.DescTable(0);
        driver.WriteDescriptor(table, 0, request, requestLength, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(table, 1, Response, 4, VirtqDescriptor.FlagWrite, 0);
        driver.Publish(0, 0);
    }

    private VirtioGuestDriver Start(ulong start, ulong size)
    {
        var driver = new VirtioGuestDriver(new VirtioPmem("_pmem0", SafeFd.Open(path, Libc.ORdWr), start, size));
        driver.Negotiate(VirtioFeatures.Version1);
        driver.SetupQueue(0, 256);
        driver.DriverOk();
        return driver;
    }
}
