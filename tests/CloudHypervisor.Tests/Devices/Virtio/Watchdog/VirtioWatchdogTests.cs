using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Watchdog;

namespace CloudHypervisor.Tests.Devices.Virtio.Watchdog;

/// <summary>virtio-watchdog through the transport: pets are answered with a 1, and a silent guest gets its VM reset.</summary>
public sealed class VirtioWatchdogTests
{
    private const ulong Buffer = 0x4_0000;

    [Fact]
    public void OffersDeviceType35WithOneQueueOf8()
    {
        using var driver = new VirtioGuestDriver(new VirtioWatchdog(VirtioWatchdog.DefaultId, () => { }));

        Assert.Equal((ushort)(0x1040 + 35), (ushort)(driver.Pci.ReadConfigRegister(0) >> 16));
        Assert.Equal(1, driver.ReadCommon16(VirtioPciCommonConfig.NumQueues));
        driver.Write16(VirtioPciCommonConfig.QueueSelect, 0);
        Assert.Equal(8, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
    }

    [Fact]
    public void APetComesBackHoldingOneAndArmsTheTimer()
    {
        var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, () => { });
        using var driver = Start(watchdog);
        Assert.False(watchdog.IsArmed);

        var head = driver.OfferWritable(0, (Buffer, 4));
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1), "the pet was not returned");
        Assert.Equal((head, 4u), driver.UsedEntry(0, 0));
        Assert.Equal(1, driver.Memory.ReadValue<byte>(Buffer));
        Assert.True(watchdog.IsArmed);
    }

    [Fact]
    public void ResetsTheVmWhenPetsStop()
    {
        var resets = 0;
        var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, () => Interlocked.Increment(ref resets), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));
        using var driver = Start(watchdog);
        driver.OfferWritable(0, (Buffer, 1));
        driver.Kick(0);
        Assert.True(driver.WaitUsed(0, 1));

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref resets) > 0, 5000), "the watchdog never reset the VM");
    }

    [Fact]
    public void RegularPetsKeepTheVmAlive()
    {
        var resets = 0;
        var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, () => Interlocked.Increment(ref resets), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(400));
        using var driver = Start(watchdog);
        for (ushort i = 0; i < 8; i++)
        {
            driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), i, Buffer + i, 1, VirtqDescriptor.FlagWrite, 0);
            driver.Publish(0, i, 8);
            driver.Kick(0);
            Assert.True(driver.WaitUsed(0, (ushort)(i + 1)));
            Thread.Sleep(100);
        }

        Assert.Equal(0, Volatile.Read(ref resets));
    }

    [Fact]
    public void ADeviceResetDisarmsIt()
    {
        var resets = 0;
        var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, () => Interlocked.Increment(ref resets), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
        using var driver = Start(watchdog);
        driver.OfferWritable(0, (Buffer, 1));
        driver.Kick(0);
        Assert.True(driver.WaitUsed(0, 1));

        driver.WriteStatus(DeviceStatus.Reset);

        Assert.False(watchdog.IsArmed);
        Thread.Sleep(300);
        Assert.Equal(0, Volatile.Read(ref resets));
    }

    [Fact]
    public void ADeviceReadablePetBreaksTheQueue()
    {
        using var driver = Start(new VirtioWatchdog(VirtioWatchdog.DefaultId, () => { }));
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 0, Buffer, 1, 0, 0);
        driver.Publish(0, 0, 8);
        driver.Kick(0);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the device did not report NEEDS_RESET");
        Assert.Equal(0, driver.UsedIdx(0));
    }

    private static VirtioGuestDriver Start(VirtioWatchdog watchdog)
    {
        var driver = new VirtioGuestDriver(watchdog);
        driver.Negotiate(VirtioFeatures.Version1);
        driver.SetupQueue(0, 8);
        driver.DriverOk();
        return driver;
    }
}
