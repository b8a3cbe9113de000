using System.Text;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Console;

namespace CloudHypervisor.Tests.Devices.Virtio.Console;

/// <summary>virtio-console end to end through the transport: transmitq to the sink, backend input into receiveq buffers, the size in config space.</summary>
public sealed class VirtioConsoleTests
{
    private const int Rx = VirtioConsole.ReceiveQueue;
    private const int Tx = VirtioConsole.TransmitQueue;

    [Fact]
    public void OffersVersion1AndSizeOnlyWithTwoQueuesOf256()
    {
        using var driver = new VirtioGuestDriver(new VirtioConsole("__console", new RecordingSink()));

        Assert.Equal(VirtioFeatures.Version1 | VirtioConsole.FeatureSize, driver.DeviceFeatures());
        Assert.Equal(VirtioDeviceType.Console, driver.Pci.Device.DeviceType);
        Assert.Equal([256, 256], driver.Pci.Device.QueueMaxSizes);
    }

    [Fact]
    public void TransmittedBytesReachTheSinkInOrder()
    {
        var sink = new RecordingSink();
        using var driver = Start(sink);

        Transmit(driver, 0, "virtio-console: ");
        Transmit(driver, 1, "hello from hvc0\n");

        Assert.True(driver.WaitUsed(Tx, 2), "the device returned no used transmit buffers");
        Assert.Equal("virtio-console: hello from hvc0\n", sink.Text);
        Assert.Equal(0u, driver.UsedEntry(Tx, 0).Length);
        Assert.True(SpinWait.SpinUntil(() => driver.Routing.Triggered.Contains(Tx + 1), 2000), "no MSI-X on the transmitq's vector");
    }

    [Fact]
    public void AChainOfSeveralReadableDescriptorsIsWrittenWhole()
    {
        var sink = new RecordingSink();
        using var driver = Start(sink);
        driver.Memory.Write(0x4_0000, "abc"u8);
        driver.Memory.Write(0x4_1000, "def"u8);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx), 0, 0x4_0000, 3, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx), 1, 0x4_1000, 3, 0, 0);
        driver.Publish(Tx, 0);
        driver.Kick(Tx);

        Assert.True(driver.WaitUsed(Tx, 1));
        Assert.Equal("abcdef", sink.Text);
    }

    [Fact]
    public void InputQueuedBeforeTheDriverOffersBuffersArrivesWhenItDoes()
    {
        var console = new VirtioConsole("__console", new RecordingSink());
        console.QueueInput("ping\n"u8);
        using var driver = Start(console);

        var head = driver.OfferWritable(Rx, (0x5_0000, 64));
        driver.Kick(Rx);

        Assert.True(driver.WaitUsed(Rx, 1), "the input never reached the receive queue");
        Assert.Equal((head, 5u), driver.UsedEntry(Rx, 0));
        Assert.Equal("ping\n", Encoding.ASCII.GetString(driver.Memory.GetSpan(0x5_0000, 5)));
        Assert.True(SpinWait.SpinUntil(() => driver.Routing.Triggered.Contains(Rx + 1), 2000), "no MSI-X on the receiveq's vector");
    }

    [Fact]
    public void InputArrivingLaterFillsBuffersAlreadyOfferedAndSpillsIntoTheNext()
    {
        var console = new VirtioConsole("__console", new RecordingSink());
        using var driver = Start(console);
        driver.OfferWritable(Rx, (0x5_0000, 4));
        driver.OfferWritable(Rx, (0x6_0000, 64));
        driver.Kick(Rx);
        Thread.Sleep(50);
        Assert.Equal(0, driver.UsedIdx(Rx));

        console.QueueInput("hello\n"u8);

        Assert.True(driver.WaitUsed(Rx, 2), "the input did not fill both buffers");
        Assert.Equal(4u, driver.UsedEntry(Rx, 0).Length);
        Assert.Equal(2u, driver.UsedEntry(Rx, 1).Length);
        Assert.Equal("hell", Encoding.ASCII.GetString(driver.Memory.GetSpan(0x5_0000, 4)));
        Assert.Equal("o\n", Encoding.ASCII.GetString(driver.Memory.GetSpan(0x6_0000, 2)));
    }

    [Fact]
    public void ConfigSpaceHoldsTheSizeAndOnePort()
    {
        using var driver = new VirtioGuestDriver(new VirtioConsole("__console", new RecordingSink(), new TerminalSize(132, 43)));

        Assert.Equal(132, ReadConfig16(driver, 0));
        Assert.Equal(43, ReadConfig16(driver, 2));
        Assert.Equal(1u, ReadConfig32(driver, 4));
        Assert.Equal(0u, ReadConfig32(driver, 8));
        Assert.Equal(0u, ReadConfig32(driver, 12));
    }

    [Fact]
    public void AResizeChangesTheConfigAndRaisesTheConfigVectorWhenSizeWasNegotiated()
    {
        var console = new VirtioConsole("__console", new RecordingSink(), new TerminalSize(80, 24));
        using var driver = Start(console);
        var generation = driver.ReadCommon8(VirtioPciCommonConfig.ConfigGeneration);
        var before = driver.Routing.Triggered.Count(v => v == 0);

        console.Resize(new TerminalSize(100, 30));

        Assert.Equal(100, ReadConfig16(driver, 0));
        Assert.Equal(30, ReadConfig16(driver, 2));
        Assert.Equal(before + 1, driver.Routing.Triggered.Count(v => v == 0));
        Assert.NotEqual(generation, driver.ReadCommon8(VirtioPciCommonConfig.ConfigGeneration));
    }

    [Fact]
    public void AResizeIsSilentWhenTheDriverDidNotNegotiateSize()
    {
        var console = new VirtioConsole("__console", new RecordingSink(), new TerminalSize(80, 24));
        using var driver = Start(console, VirtioFeatures.Version1);

        console.Resize(new TerminalSize(100, 30));

        Assert.Equal(100, ReadConfig16(driver, 0));
        Assert.DoesNotContain(0, driver.Routing.Triggered);
    }

    [Fact]
    public void WorksAgainAfterADeviceResetAndKeepsPendingInput()
    {
        var sink = new RecordingSink();
        var console = new VirtioConsole("__console", sink);
        using var driver = Start(console);
        Transmit(driver, 0, "one");
        Assert.True(driver.WaitUsed(Tx, 1));

        driver.WriteStatus(DeviceStatus.Reset);
        console.QueueInput("kept"u8);
        Initialise(driver, VirtioFeatures.Version1 | VirtioConsole.FeatureSize);
        Transmit(driver, 0, "two");
        driver.OfferWritable(Rx, (0x5_0000, 16));
        driver.Kick(Rx);

        Assert.True(driver.WaitUsed(Tx, 1), "the re-initialised transmitq did not restart at used idx 1");
        Assert.True(driver.WaitUsed(Rx, 1));
        Assert.Equal("onetwo", sink.Text);
        Assert.Equal("kept", Encoding.ASCII.GetString(driver.Memory.GetSpan(0x5_0000, 4)));
    }

    [Fact]
    public void AnOutOfRangeTransmitBufferBreaksTheQueueWithoutOutput()
    {
        var sink = new RecordingSink();
        using var driver = Start(sink);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx), 0, VirtioGuestDriver.RamSize - 4, 64, 0, 0);
        driver.Publish(Tx, 0);
        driver.Kick(Tx);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the device did not report NEEDS_RESET");
        Assert.Equal(0, driver.UsedIdx(Tx));
        Assert.Equal("", sink.Text);
    }

    [Fact]
    public void ALoopingReceiveChainBreaksTheQueueAndTheDeviceRecoversAfterReset()
    {
        var console = new VirtioConsole("__console", new RecordingSink());
        using var driver = Start(console);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Rx), 0, 0x5_0000, 1, VirtqDescriptor.FlagWrite | VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Rx), 1, 0x5_1000, 1, VirtqDescriptor.FlagWrite | VirtqDescriptor.FlagNext, 0);
        driver.Publish(Rx, 0);
        console.QueueInput(new byte[600]);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000), "the device did not report NEEDS_RESET");
        Assert.Equal(0, driver.UsedIdx(Rx));

        Initialise(driver, VirtioFeatures.Version1);
        driver.OfferWritable(Rx, (0x6_0000, 1024));
        driver.Kick(Rx);
        Assert.True(driver.WaitUsed(Rx, 1), "no input after the reset");
    }

    [Fact]
    public void ABadAvailIndexBreaksTheTransmitQueue()
    {
        var sink = new RecordingSink();
        using var driver = Start(sink);
        driver.SetAvailIdx(Tx, 1000);
        driver.Kick(Tx);

        Assert.True(SpinWait.SpinUntil(() => (driver.Status & DeviceStatus.NeedsReset) != 0, 5000));
        Assert.Equal("", sink.Text);
    }

    [Fact]
    public void WritesToTheConfigSpaceChangeNothing()
    {
        using var driver = new VirtioGuestDriver(new VirtioConsole("__console", new RecordingSink(), new TerminalSize(80, 24)));

        driver.Pci.Write(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset, [1, 2, 3, 4]);
        driver.Pci.Write(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset + 8, [(byte)'x', 0, 0, 0]);

        Assert.Equal(80, ReadConfig16(driver, 0));
        Assert.Equal(24, ReadConfig16(driver, 2));
    }

    private static VirtioGuestDriver Start(RecordingSink sink) => Start(new VirtioConsole("__console", sink));

    private static VirtioGuestDriver Start(VirtioConsole console, ulong features = VirtioFeatures.Version1 | VirtioConsole.FeatureSize)
    {
        var driver = new VirtioGuestDriver(console);
        driver.EnableMsix();
        Initialise(driver, features);
        return driver;
    }

    private static void Initialise(VirtioGuestDriver driver, ulong features)
    {
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk, driver.Negotiate(features));
        driver.Write16(VirtioPciCommonConfig.MsixConfig, 0);
        driver.SetupQueue(Rx, 256);
        driver.SetupQueue(Tx, 256);
        driver.DriverOk();
        Assert.Equal(DeviceStatus.Ready, driver.Status);
    }

    /// <summary>Puts <paramref name="text"/> in one device-readable descriptor (index <paramref name="slot"/>) and kicks the transmitq.</summary>
    private static void Transmit(VirtioGuestDriver driver, int slot, string text)
    {
        var address = 0x4_0000UL + (ulong)slot * 0x1000;
        var bytes = Encoding.ASCII.GetBytes(text);
        driver.Memory.Write(address, bytes);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx), slot, address, (uint)bytes.Length, 0, 0);
        driver.Publish(Tx, (ushort)slot);
        driver.Kick(Tx);
    }

    private static ushort ReadConfig16(VirtioGuestDriver driver, ulong offset)
    {
        Span<byte> b = stackalloc byte[2];
        driver.Pci.Read(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset + offset, b);
        return BitConverter.ToUInt16(b);
    }

    private static uint ReadConfig32(VirtioGuestDriver driver, ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        driver.Pci.Read(VirtioGuestDriver.BarBase, VirtioPciLayout.DeviceConfigOffset + offset, b);
        return BitConverter.ToUInt32(b);
    }

    internal sealed class RecordingSink : IByteSink
    {
        private readonly List<byte> bytes = [];

        public string Text
        {
            get { lock (bytes) { return Encoding.ASCII.GetString([.. bytes]); } }
        }

        public void Write(ReadOnlySpan<byte> data)
        {
            lock (bytes)
            {
                bytes.AddRange(data);
            }
        }
    }
}
