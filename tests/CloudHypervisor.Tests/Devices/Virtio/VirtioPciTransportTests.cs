using System.Buffers.Binary;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Virtio;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>The modern virtio-pci transport as a driver sees it: identity, capabilities, negotiation, queue setup, reset.</summary>
public sealed class VirtioPciTransportTests : IDisposable
{
    private readonly VirtioGuestDriver driver = new(VirtioRng.Open("__rng", "/dev/urandom"));

    public void Dispose() => driver.Dispose();

    [Fact]
    public void IdentityIsUpstreamsModernVirtioRng()
    {
        var config = driver.Pci.Config;
        Assert.Equal(0x1044_1AF4u, config.ReadRegister(0));
        Assert.Equal(0xFFFF_0001u, config.ReadRegister(2)); // class FF/FF, prog-if 0, revision 1
        Assert.Equal(0x1044_1AF4u, config.ReadRegister(11));
        Assert.Equal(VirtioGuestDriver.BarBase | 0x4, config.ReadRegister(4));
        Assert.Equal(0x0010_0000u, config.ReadRegister(1) & 0x0010_0000);
    }

    [Fact]
    public void CapabilitiesPointAtUpstreamsBarLayout()
    {
        var caps = Capabilities();

        Assert.Equal(
            [
                (0x09, 1, 16, 0x0u, 56u),
                (0x09, 3, 16, 0x2000u, 1u),
                (0x09, 4, 16, 0x4000u, 0x1000u),
                (0x09, 2, 20, 0x6000u, 0x1000u),
                (0x09, 5, 20, 0u, 0u),
            ],
            caps.Where(c => c.Id == 0x09).Select(c => ((int)c.Id, (int)c.Type, (int)c.Length, c.Offset, c.Size)));
        var notify = caps.Single(c => c.Type == 2 && c.Id == 0x09);
        Assert.Equal(4u, ReadConfigDword(notify.At + 16));
        var msix = caps.Single(c => c.Id == 0x11);
        Assert.Equal(1, (int)(driver.Pci.Config.ReadRegister(msix.At / 4) >> 16 & 0x7FF)); // 2 vectors: table size - 1
        Assert.Equal(0x8000u, ReadConfigDword(msix.At + 4));
        Assert.Equal(0x4_8000u, ReadConfigDword(msix.At + 8));
    }

    [Fact]
    public void FeatureNegotiationRequiresVersion1()
    {
        Assert.Equal(VirtioFeatures.Version1, driver.DeviceFeatures());

        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver, driver.Negotiate(0));
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk, driver.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx));

        driver.Write32(VirtioPciCommonConfig.DriverFeatureSelect, 0);
        Assert.Equal(0u, driver.ReadCommon32(VirtioPciCommonConfig.DriverFeature)); // EVENT_IDX was not offered
        driver.Write32(VirtioPciCommonConfig.DriverFeatureSelect, 1);
        Assert.Equal(1u, driver.ReadCommon32(VirtioPciCommonConfig.DriverFeature));
    }

    [Fact]
    public void StatusOnlyAdvancesOneStepAtATime()
    {
        driver.WriteStatus(DeviceStatus.Acknowledge | DeviceStatus.Driver);
        Assert.Equal(0, driver.Status);
        driver.WriteStatus(DeviceStatus.Acknowledge);
        driver.WriteStatus(DeviceStatus.Ready);
        Assert.Equal(DeviceStatus.Acknowledge, driver.Status);
        driver.WriteStatus(DeviceStatus.Failed);
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Failed, driver.Status);
        driver.WriteStatus(DeviceStatus.Reset);
        Assert.Equal(0, driver.Status);
    }

    [Fact]
    public void QueueRegistersReportTheQueueAndIgnoreWritesOutsideSetup()
    {
        Assert.Equal(1, driver.ReadCommon16(VirtioPciCommonConfig.NumQueues));
        Assert.Equal(256, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));

        driver.Write16(VirtioPciCommonConfig.QueueSize, 16); // before FEATURES_OK
        Assert.Equal(256, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));

        driver.Negotiate(VirtioFeatures.Version1);
        driver.Write16(VirtioPciCommonConfig.QueueSize, 16);
        driver.Write16(VirtioPciCommonConfig.QueueMsixVector, 1);
        Assert.Equal(16, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
        Assert.Equal(1, driver.ReadCommon16(VirtioPciCommonConfig.QueueMsixVector));
        Assert.Equal(0, driver.ReadCommon16(VirtioPciCommonConfig.QueueNotifyOff));

        driver.Write16(VirtioPciCommonConfig.QueueMsixVector, 2); // only vectors 0 and 1 exist
        Assert.Equal(VirtioPciLayout.NoVector, driver.ReadCommon16(VirtioPciCommonConfig.QueueMsixVector));
        driver.Write16(VirtioPciCommonConfig.MsixConfig, 7);
        Assert.Equal(VirtioPciLayout.NoVector, driver.ReadCommon16(VirtioPciCommonConfig.MsixConfig));

        driver.Write16(VirtioPciCommonConfig.QueueSelect, 5);
        Assert.Equal(0, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
        Assert.Equal(VirtioPciLayout.NoVector, driver.ReadCommon16(VirtioPciCommonConfig.QueueMsixVector));
    }

    [Fact]
    public void ResetForgetsQueueProgrammingAndFeatures()
    {
        driver.Negotiate(VirtioFeatures.Version1);
        driver.SetupQueue(0, 64);
        driver.DriverOk();
        Assert.Equal(DeviceStatus.Ready, driver.Status);

        driver.WriteStatus(DeviceStatus.Reset);

        Assert.Equal(0, driver.Status);
        Assert.Equal(256, driver.ReadCommon16(VirtioPciCommonConfig.QueueSize));
        Assert.Equal(0, driver.ReadCommon16(VirtioPciCommonConfig.QueueEnable));
        Assert.Equal(0u, driver.ReadCommon32(VirtioPciCommonConfig.QueueDesc));
        Assert.Equal(VirtioPciLayout.NoVector, driver.ReadCommon16(VirtioPciCommonConfig.QueueMsixVector));
        driver.Write32(VirtioPciCommonConfig.DriverFeatureSelect, 1);
        Assert.Equal(0u, driver.ReadCommon32(VirtioPciCommonConfig.DriverFeature));
    }

    [Fact]
    public void PciConfigAccessCapabilityReachesTheBar()
    {
        var access = Capabilities().Single(c => c.Id == 0x09 && c.Type == 5);
        // cap.offset = NUM_QUEUES (0x12), cap.length = 2, then read pci_cfg_data.
        WriteConfigDword(access.At + 8, 0x12);
        WriteConfigDword(access.At + 12, 2);
        Assert.Equal(1u, ReadConfigDword(access.At + 16) & 0xFFFF);

        // A status write through the window lands in the common configuration.
        WriteConfigDword(access.At + 8, (uint)VirtioPciCommonConfig.DeviceStatusOffset);
        WriteConfigDword(access.At + 12, 1);
        driver.Pci.WriteConfigRegister((access.At + 16) / 4, 0, [DeviceStatus.Acknowledge]);
        Assert.Equal(DeviceStatus.Acknowledge, driver.Status);
    }

    [Fact]
    public void NotifyRegionReadsZeroAndStrayNotificationsAreIgnored()
    {
        Assert.Equal(0u, driver.ReadCommon32(VirtioPciLayout.NotifyOffset));
        driver.Write16(VirtioPciLayout.QueueNotifyOffset(7), 7);
        driver.Write16(VirtioPciLayout.NotifyOffset + 2, 0);
        Assert.Equal(0, driver.Status);
    }

    private uint ReadConfigDword(int offset) => driver.Pci.ReadConfigRegister(offset / 4);

    private void WriteConfigDword(int offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        driver.Pci.WriteConfigRegister(offset / 4, 0, data);
    }

    private List<(int At, byte Id, byte Length, byte Type, uint Offset, uint Size)> Capabilities()
    {
        var list = new List<(int, byte, byte, byte, uint, uint)>();
        var at = (int)(ReadConfigDword(0x34) & 0xFF);
        while (at != 0)
        {
            var head = ReadConfigDword(at);
            list.Add((at, (byte)head, (byte)(head >> 16), (byte)(head >> 24), ReadConfigDword(at + 8), ReadConfigDword(at + 12)));
            at = (int)(head >> 8 & 0xFF);
        }

        return list;
    }
}
