using CloudHypervisor.Devices.Virtio;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>virtio-rng end to end through the transport: the I/O thread fills guest buffers from the source file.</summary>
public sealed class VirtioRngTests : IDisposable
{
    private readonly string source = Path.Combine(Path.GetTempPath(), $"rng-{Guid.NewGuid():N}");
    private readonly byte[] entropy = new byte[0x4000];

    public VirtioRngTests()
    {
        new Random(42).NextBytes(entropy);
        File.WriteAllBytes(source, entropy);
    }

    public void Dispose() => File.Delete(source);

    [Fact]
    public void FillsAWritableChainFromTheSourceAndInterruptsOnTheQueueVector()
    {
        using var driver = Start();

        var head = driver.OfferWritable(0, (0x4_0000, 16), (0x5_0000, 48));
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1), "the device returned no used buffer");
        Assert.Equal((head, 64u), driver.UsedEntry(0, 0));
        Assert.Equal(entropy[..16], driver.Memory.GetSpan(0x4_0000, 16).ToArray());
        Assert.Equal(entropy[16..64], driver.Memory.GetSpan(0x5_0000, 48).ToArray());
        Assert.True(SpinWait.SpinUntil(() => driver.Routing.Triggered.Contains(1), 2000), "no MSI-X on the queue's vector 1");
    }

    [Fact]
    public void SkipsDeviceReadableDescriptorsAndReportsOnlyWhatItWrote()
    {
        using var driver = Start();
        driver.Memory.GetSpan(0x4_0000, 32).Fill(0xAA);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 0, 0x4_0000, 32, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 1, 0x4_1000, 8, VirtqDescriptor.FlagWrite, 0);
        driver.Publish(0, 0);
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1));
        Assert.Equal((0u, 8u), driver.UsedEntry(0, 0));
        Assert.All(driver.Memory.GetSpan(0x4_0000, 32).ToArray(), b => Assert.Equal(0xAA, b));
        Assert.Equal(entropy[..8], driver.Memory.GetSpan(0x4_1000, 8).ToArray());
    }

    [Fact]
    public void RunsOnAnIoThreadNamedAfterTheDevice()
    {
        using var driver = Start("__rng_named");

        Assert.True(SpinWait.SpinUntil(() => ThreadNames().Contains("__rng_named"), 5000), "no __rng_named thread");
        driver.WriteStatus(DeviceStatus.Reset);
        // Reset stops the worker; the OS thread leaves /proc a moment after the managed join returns.
        Assert.True(SpinWait.SpinUntil(() => !ThreadNames().Contains("__rng_named"), 5000), "the __rng_named thread outlived the reset");
    }

    [Fact]
    public void WorksAgainAfterADeviceReset()
    {
        using var driver = Start();
        driver.OfferWritable(0, (0x4_0000, 8));
        driver.Kick(0);
        Assert.True(driver.WaitUsed(0, 1));

        Assert.Equal(VirtioGuestDriver.BarBase, driver.Pci.Bar.Address);
        driver.Negotiate(VirtioFeatures.Version1);
        driver.SetupQueue(0, 128);
        driver.DriverOk();
        driver.OfferWritable(0, (0x6_0000, 8));
        driver.Kick(0);

        Assert.True(driver.WaitUsed(0, 1), "the re-initialised queue did not restart at used idx 1");
        Assert.Equal(entropy[8..16], driver.Memory.GetSpan(0x6_0000, 8).ToArray());
    }

    [Fact]
    public void AMissingSourceFailsDeviceCreation()
    {
        var e = Assert.Throws<VirtioException>(() => VirtioRng.Open("__rng", "/nonexistent/rng"));
        Assert.Equal("Cannot create virtio-rng device", e.Message);
        Assert.Contains("os error 2", e.InnerException!.Message);
    }

    [Fact]
    public void AHostileChainBreaksTheQueueWhileTheVmmCarriesOn()
    {
        using var driver = Start("__rng_hostile");
        driver.EnableMsix();
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 0, 0x4_0000, 16, VirtqDescriptor.FlagWrite | VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(0), 1, VirtioGuestDriver.RamSize - 8, 16, VirtqDescriptor.FlagWrite, 0);
        driver.Publish(0, 0);
        driver.Kick(0);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the device did not report NEEDS_RESET");
        Assert.Equal(0, driver.UsedIdx(0));
        // The device sets NEEDS_RESET first and then raises the configuration-change vector, from its own thread.
        Assert.True(SpinWait.SpinUntil(() => driver.Routing.Triggered.Contains(0), 5000), "no configuration-change interrupt");
        Assert.Contains("__rng_hostile", ThreadNames());

        // A fresh start after reset works.
        driver.Negotiate(VirtioFeatures.Version1);
        driver.SetupQueue(0, 256);
        driver.DriverOk();
        driver.OfferWritable(0, (0x4_0000, 4));
        driver.Kick(0);
        Assert.True(driver.WaitUsed(0, 1));
    }

    /// <remarks>Thread names are process-wide and other test classes run rng devices in parallel: tests that look
    /// for the I/O thread give their device an id of its own.</remarks>
    private VirtioGuestDriver Start(string id = "__rng")
    {
        var driver = new VirtioGuestDriver(VirtioRng.Open(id, source));
        driver.EnableMsix();
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk, driver.Negotiate(VirtioFeatures.Version1));
        driver.Write16(VirtioPciCommonConfig.MsixConfig, 0);
        driver.SetupQueue(0, 256);
        driver.DriverOk();
        Assert.Equal(DeviceStatus.Ready, driver.Status);
        return driver;
    }

    private static List<string> ThreadNames()
    {
        var names = new List<string>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).Trim());
            }
            catch (IOException)
            {
                // The thread exited meanwhile.
            }
        }

        return names;
    }
}
