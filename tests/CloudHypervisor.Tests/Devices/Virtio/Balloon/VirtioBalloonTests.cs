using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Balloon;

namespace CloudHypervisor.Tests.Devices.Virtio.Balloon;

/// <summary>
/// virtio-balloon through the transport: what it offers, its configuration space, and what inflate,
/// deflate and free page reports do to guest memory, including requests from a hostile driver.
/// </summary>
public sealed class VirtioBalloonTests : IDisposable
{
    private const ulong PfnArray = 0x4_0000;
    private const ulong Pages = 0x8_0000;
    private const ulong Page = BalloonMemory.PageSize;
    private const byte Pattern = 0xA5;
    private readonly string file = Path.Combine(Path.GetTempPath(), $"balloon-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(file);

    [Fact]
    public void OffersDeviceType5WithTwoQueuesOf128AndNoOptionalFeatures()
    {
        using var driver = new VirtioGuestDriver(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false));

        Assert.Equal((ushort)(0x1040 + 5), (ushort)(driver.Pci.ReadConfigRegister(0) >> 16));
        Assert.Equal(VirtioFeatures.Version1, driver.DeviceFeatures());
        Assert.Equal(2, driver.ReadCommon16(VirtioPciCommonConfig.NumQueues));
        for (ushort q = 0; q < 2; q++)
        {
            driver.Write16(VirtioPciCommonConfig.QueueSelect, q);
            Assert.Equal(128, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
        }
    }

    [Fact]
    public void DeflateOnOomAndFreePageReportingAddTheirFeaturesAndAReportingQueueOf32()
    {
        using var driver = new VirtioGuestDriver(new VirtioBalloon(VirtioBalloon.DefaultId, 0, deflateOnOom: true, freePageReporting: true));

        Assert.Equal(VirtioFeatures.Version1 | (1UL << 2) | (1UL << 5), driver.DeviceFeatures());
        Assert.Equal(3, driver.ReadCommon16(VirtioPciCommonConfig.NumQueues));
        driver.Write16(VirtioPciCommonConfig.QueueSelect, 2);
        Assert.Equal(32, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
    }

    [Fact]
    public void TheConfigurationSpaceHoldsTheTargetInPagesAndActualStartsAtZero()
    {
        using var driver = new VirtioGuestDriver(new VirtioBalloon(VirtioBalloon.DefaultId, 8 << 20, false, false));

        Assert.Equal(2048u, ReadConfig32(driver, 0));
        Assert.Equal(0u, ReadConfig32(driver, 4));
    }

    [Fact]
    public void TheDriverWritesActualAsOne32BitWriteAndNothingElse()
    {
        var balloon = new VirtioBalloon(VirtioBalloon.DefaultId, 8 << 20, false, false);
        using var driver = new VirtioGuestDriver(balloon);

        driver.Write32(VirtioPciLayout.DeviceConfigOffset + 4, 1000);
        driver.Write32(VirtioPciLayout.DeviceConfigOffset, 7);
        driver.Write16(VirtioPciLayout.DeviceConfigOffset + 4, 3);

        Assert.Equal(2048u, ReadConfig32(driver, 0));
        Assert.Equal(1000u, ReadConfig32(driver, 4));
        Assert.Equal(1000UL * Page, balloon.ActualSize);
    }

    [Fact]
    public void ANewTargetChangesNumPagesAndRaisesTheConfigurationInterrupt()
    {
        var balloon = new VirtioBalloon(VirtioBalloon.DefaultId, 8 << 20, false, false);
        using var driver = Start(balloon, VirtioFeatures.Version1, queues: 2);
        driver.EnableMsix();
        driver.Write16(VirtioPciCommonConfig.MsixConfig, 0);
        var generation = driver.ReadCommon8(VirtioPciCommonConfig.ConfigGeneration);

        balloon.Resize(16 << 20);

        Assert.Equal(4096u, ReadConfig32(driver, 0));
        Assert.Equal(16UL << 20, balloon.TargetSize);
        Assert.Contains(0, driver.Routing.Triggered);
        Assert.NotEqual(generation, driver.ReadCommon8(VirtioPciCommonConfig.ConfigGeneration));
    }

    [Fact]
    public void InflatingReleasesExactlyTheNamedPagesOfPrivateMemory()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        Fill(driver.Memory, Pages, 5);

        var head = SendPfns(driver, VirtioBalloon.InflateQueue, PfnOf(Pages), PfnOf(Pages) + 1, PfnOf(Pages) + 3);

        Assert.True(driver.WaitUsed(VirtioBalloon.InflateQueue, 1), "the inflate request was not answered");
        Assert.Equal((head, 12u), driver.UsedEntry(VirtioBalloon.InflateQueue, 0));
        Assert.Equal([0, 0, Pattern, 0, Pattern], FirstBytes(driver.Memory, Pages, 5));
    }

    [Fact]
    public void DeflatingKeepsThePagesAndIsAnswered()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        Fill(driver.Memory, Pages, 2);

        var head = SendPfns(driver, VirtioBalloon.DeflateQueue, PfnOf(Pages), PfnOf(Pages) + 1);

        Assert.True(driver.WaitUsed(VirtioBalloon.DeflateQueue, 1), "the deflate request was not answered");
        Assert.Equal((head, 8u), driver.UsedEntry(VirtioBalloon.DeflateQueue, 0));
        Assert.Equal([Pattern, Pattern], FirstBytes(driver.Memory, Pages, 2));
    }

    [Fact]
    public void InflatingSharedFileBackedMemoryPunchesThePageOutOfTheFile()
    {
        File.WriteAllBytes(file, new byte[VirtioGuestDriver.RamSize]);
        var options = new GuestMemoryOptions { BackingFile = file, Shared = true };
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2, options);
        Fill(driver.Memory, Pages, 2);

        SendPfns(driver, VirtioBalloon.InflateQueue, PfnOf(Pages));

        Assert.True(driver.WaitUsed(VirtioBalloon.InflateQueue, 1));
        Assert.Equal([0, Pattern], FirstBytes(driver.Memory, Pages, 2));
        var content = File.ReadAllBytes(file);
        // MADV_DONTNEED alone never changes a shared file: a zero there is the punched hole.
        Assert.Equal(0, content[(int)Pages]);
        Assert.Equal(Pattern, content[(int)(Pages + Page)]);
        Assert.Equal((long)VirtioGuestDriver.RamSize, content.LongLength);
    }

    [Fact]
    public void InflatingSharedMemfdMemoryReleasesThePage()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2, new GuestMemoryOptions { Shared = true });
        Fill(driver.Memory, Pages, 2);

        SendPfns(driver, VirtioBalloon.InflateQueue, PfnOf(Pages) + 1);

        Assert.True(driver.WaitUsed(VirtioBalloon.InflateQueue, 1));
        Assert.Equal([Pattern, 0], FirstBytes(driver.Memory, Pages, 2));
    }

    [Fact]
    public void InflatingAPrivateMappingOfAFileLeavesTheFileAlone()
    {
        var content = new byte[VirtioGuestDriver.RamSize];
        content[Pages] = 0x11;
        File.WriteAllBytes(file, content);
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2, new GuestMemoryOptions { BackingFile = file });
        Fill(driver.Memory, Pages, 1);

        SendPfns(driver, VirtioBalloon.InflateQueue, PfnOf(Pages));

        Assert.True(driver.WaitUsed(VirtioBalloon.InflateQueue, 1));
        Assert.Equal([0x11], FirstBytes(driver.Memory, Pages, 1));
        Assert.Equal(0x11, File.ReadAllBytes(file)[Pages]);
    }

    [Theory]
    [InlineData(0x100u)]
    [InlineData(0xFFFF_FFFFu)]
    public void APfnOutsideGuestRamBreaksTheQueueWithoutAnAnswer(uint hostilePfn)
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        Fill(driver.Memory, Pages, 1);

        SendPfns(driver, VirtioBalloon.InflateQueue, hostilePfn, PfnOf(Pages));

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the queue was not broken");
        Assert.Equal(0, driver.UsedIdx(VirtioBalloon.InflateQueue));
        Assert.Equal([Pattern], FirstBytes(driver.Memory, Pages, 1));
    }

    [Fact]
    public void TheLastPageOfRamCanBeInflated()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        var last = VirtioGuestDriver.RamSize - Page;
        Fill(driver.Memory, last, 1);

        SendPfns(driver, VirtioBalloon.InflateQueue, PfnOf(last));

        Assert.True(driver.WaitUsed(VirtioBalloon.InflateQueue, 1));
        Assert.Equal([0], FirstBytes(driver.Memory, last, 1));
    }

    [Theory]
    [InlineData(6u, (ushort)0)]
    [InlineData(8u, VirtqDescriptor.FlagWrite)]
    public void ARaggedOrDeviceWritablePfnArrayBreaksTheQueue(uint length, ushort flags)
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        Fill(driver.Memory, Pages, 1);
        driver.Memory.WriteValue(PfnArray, PfnOf(Pages));
        driver.Memory.WriteValue(PfnArray + 4, PfnOf(Pages));
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 0, PfnArray, length, flags, 0);
        driver.Publish(0, 0, 128);
        driver.Kick(0);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the queue was not broken");
        Assert.Equal([Pattern], FirstBytes(driver.Memory, Pages, 1));
    }

    [Fact]
    public void OnlyTheFirstDescriptorOfAnInflateRequestIsRead()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false), VirtioFeatures.Version1, queues: 2);
        var table = VirtioGuestDriver.DescTable(0);
        driver.WriteDescriptor(table, 0, PfnArray, 4, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(table, 1, PfnArray, 4, VirtqDescriptor.FlagNext, 0);
        driver.Memory.WriteValue(PfnArray, PfnOf(Pages));
        driver.Publish(0, 0, 128);
        driver.Kick(0);

        // Upstream reads only the first descriptor of a request, so the loop is never walked.
        Assert.True(driver.WaitUsed(0, 1));
        Assert.Equal((0u, 4u), driver.UsedEntry(0, 0));
    }

    [Fact]
    public void AFreePageReportReleasesTheWholePagesOfEachRange()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, true), VirtioFeatures.Version1 | BalloonFeatures.Reporting, queues: 3);
        Fill(driver.Memory, Pages, 6);
        var table = VirtioGuestDriver.DescTable(VirtioBalloon.ReportingQueue);

        // One page-aligned range of two pages, and one unaligned range that covers only page 4 whole.
        driver.WriteDescriptor(table, 0, Pages, (uint)(2 * Page), VirtqDescriptor.FlagWrite | VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(table, 1, Pages + (3 * Page) + 0x800, (uint)(2 * Page), VirtqDescriptor.FlagWrite, 0);
        driver.Publish(VirtioBalloon.ReportingQueue, 0, 32);
        driver.Kick(VirtioBalloon.ReportingQueue);

        Assert.True(driver.WaitUsed(VirtioBalloon.ReportingQueue, 1), "the report was not answered");
        Assert.Equal((0u, (uint)(4 * Page)), driver.UsedEntry(VirtioBalloon.ReportingQueue, 0));
        Assert.Equal([0, 0, Pattern, Pattern, 0, Pattern], FirstBytes(driver.Memory, Pages, 6));
        Assert.Equal(Pattern, driver.Memory.ReadValue<byte>(Pages + (3 * Page) + 0xFFF));
    }

    [Fact]
    public void WithoutTheReportingFeatureTheThirdQueueIsNotServed()
    {
        using var driver = Start(new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, true), VirtioFeatures.Version1, queues: 3);
        Fill(driver.Memory, Pages, 1);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(2), 0, Pages, (uint)Page, VirtqDescriptor.FlagWrite, 0);
        driver.Publish(2, 0, 32);
        driver.Kick(2);

        Assert.False(driver.WaitUsed(2, 1, 300));
        Assert.Equal([Pattern], FirstBytes(driver.Memory, Pages, 1));
    }

    [Fact]
    public void PfnsRunningAcrossTwoAdjacentRegionsAreAllReleased()
    {
        // Two regions back to back, as memory zones are laid out: one run of PFNs spans both.
        using var memory = GuestMemory.Create([(0UL, 0x4_0000UL), (0x4_0000UL, 0x4_0000UL)], new GuestMemoryOptions());
        var queue = new VirtQueue(VirtioBalloon.QueueSize) { DescriptorTable = 0x1000, AvailRing = 0x2000, UsedRing = 0x3000, Ready = true };
        Assert.True(queue.Activate(memory, VirtioFeatures.Version1, VirtioBalloon.DefaultId));
        const ulong array = 0x3_8000;
        Fill(memory, 0x3_F000, 1);
        Fill(memory, 0x4_0000, 1);
        memory.WriteValue(array, PfnOf(0x3_F000));
        memory.WriteValue(array + 4, PfnOf(0x4_0000));
        memory.GetSpan(0x1000, 16).Clear();
        memory.WriteValue(0x1000UL, array);
        memory.WriteValue(0x1008UL, 8u);
        memory.WriteValue(0x2004UL, (ushort)0);
        memory.WriteValue(0x2002UL, (ushort)1);
        using var notifier = new CloudHypervisor.Sys.EventFd();
        using var balloon = new VirtioBalloon(VirtioBalloon.DefaultId, 0, false, false);

        balloon.ProcessQueue(new VirtioQueueBinding(VirtioBalloon.InflateQueue, queue, notifier));

        Assert.False(queue.IsBroken);
        Assert.Equal(1, memory.ReadValue<ushort>(0x3002));
        Assert.Equal([0, 0], FirstBytes(memory, 0x3_F000, 2));
    }

    private static uint PfnOf(ulong address) => (uint)(address >> BalloonMemory.PageShift);

    /// <summary>Makes one PFN array request on <paramref name="queue"/>; returns its head.</summary>
    private static ushort SendPfns(VirtioGuestDriver driver, int queue, params uint[] pfns)
    {
        for (var i = 0; i < pfns.Length; i++)
        {
            driver.Memory.WriteValue(PfnArray + (4UL * (ulong)i), pfns[i]);
        }

        driver.WriteDescriptor(VirtioGuestDriver.DescTable(queue), 0, PfnArray, (uint)(4 * pfns.Length), 0, 0);
        driver.Publish(queue, 0, 128);
        driver.Kick(queue);
        return 0;
    }

    private static void Fill(GuestMemory memory, ulong start, int pages) => memory.GetSpan(start, pages * (int)Page).Fill(Pattern);

    private static byte[] FirstBytes(GuestMemory memory, ulong start, int pages)
    {
        var bytes = new byte[pages];
        for (var i = 0; i < pages; i++)
        {
            bytes[i] = memory.ReadValue<byte>(start + ((ulong)i * Page));
        }

        return bytes;
    }

    private static uint ReadConfig32(VirtioGuestDriver driver, ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        driver.Pci.Read(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset + offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private static VirtioGuestDriver Start(VirtioBalloon balloon, ulong features, int queues, GuestMemoryOptions? options = null)
    {
        var driver = new VirtioGuestDriver(balloon, options);
        driver.Negotiate(features);
        for (var q = 0; q < queues; q++)
        {
            driver.SetupQueue(q, q == VirtioBalloon.ReportingQueue ? VirtioBalloon.ReportingQueueSize : VirtioBalloon.QueueSize);
        }

        driver.DriverOk();
        return driver;
    }
}
