using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>What a guest sees of segment 0 through configuration mechanism #1 and through ECAM.</summary>
public class PciConfigAccessTests
{
    private readonly PciTestBus pci = new();

    [Fact]
    public void HostBridgeHasUpstreamsIdentityThroughBothMechanisms()
    {
        foreach (var read in new Func<int, int, uint>[] { (d, r) => pci.Cf8Read(d, r), (d, r) => pci.EcamRead(d, r) })
        {
            Assert.Equal(0x0D57_8086u, read(0, 0x00));
            Assert.Equal(0x0600_0000u, read(0, 0x08)); // class 06/00/00, revision 0
            Assert.Equal(0u, read(0, 0x0C) >> 16 & 0xFF); // header type 0, single function
            Assert.Equal(0u, read(0, 0x10)); // no BARs
        }
    }

    [Fact]
    public void EmptySlotsOtherBusesAndFunctionsReadAllOnes()
    {
        Assert.Equal(0xFFFF_FFFFu, pci.Cf8Read(1, 0));
        Assert.Equal(0xFFFF_FFFFu, pci.Cf8Read(31, 0));
        Assert.Equal(0xFFFF_FFFFu, pci.Cf8Read(0, 0, function: 1));
        Assert.Equal(0xFFFF_FFFFu, pci.Cf8Read(0, 0, bus: 1));
        Assert.Equal(0xFFFF_FFFFu, pci.EcamRead(5, 0));
        Assert.Equal(0xFFFF_FFFFu, pci.EcamRead(5, 0x100));
        Assert.Equal(0u, pci.EcamRead(0, 0x100)); // the bridge's extended space exists and is empty
    }

    [Fact]
    public void DataPortReadsAllOnesUntilTheEnableBitIsSet()
    {
        pci.OutL(0xCF8, 0x0000_0000);
        Assert.Equal(0xFFFF_FFFFu, pci.InL(0xCFC));

        pci.OutL(0xCF8, 0x8000_0000);
        Assert.Equal(0x0D57_8086u, pci.InL(0xCFC));
    }

    [Fact]
    public void AddressRegisterReadsBackAndTakesByteAndWordWrites()
    {
        pci.OutL(0xCF8, 0x8000_0008);
        Assert.Equal(0x8000_0008u, pci.InL(0xCF8));

        Assert.True(pci.Io.Write(0xCF8, [0x0C]));
        Assert.Equal(0x8000_000Cu, pci.InL(0xCF8));
        Assert.True(pci.Io.Write(0xCFA, [0x34, 0x12]));
        Assert.Equal(0x1234_000Cu, pci.InL(0xCF8));
    }

    [Fact]
    public void ByteAndWordReadsAtCfcPlusNSelectLanesOfTheDword()
    {
        pci.OutL(0xCF8, PciTestBus.Cf8Address(0, 0, 0));

        Assert.Equal(0x8086, pci.InW(0xCFC));
        Assert.Equal(0x0D57, pci.InW(0xCFE));
        Assert.Equal(0x86, pci.InB(0xCFC));
        Assert.Equal(0x80, pci.InB(0xCFD));
        Assert.Equal(0x57, pci.InB(0xCFE));
        Assert.Equal(0x0D, pci.InB(0xCFF));
    }

    [Fact]
    public void EcamSubDwordReadsAndAccessesCrossingADwordBoundary()
    {
        var word = new byte[2];
        Assert.True(pci.Mmio.Read(PciTestBus.EcamAddress(0, 0, 2), word));
        Assert.Equal(0x0D57, BitConverter.ToUInt16(word));

        var crossing = new byte[4];
        Assert.True(pci.Mmio.Read(PciTestBus.EcamAddress(0, 0, 2), crossing));
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(crossing));
    }

    [Fact]
    public void IdentityRegistersAreReadOnly()
    {
        pci.Cf8Write(0, 0x00, 0x1234_5678);
        pci.EcamWrite(0, 0x08, 0xFFFF_FFFF);
        pci.Cf8Write(0, 0x0C, 0xFFFF_FFFF);

        Assert.Equal(0x0D57_8086u, pci.EcamRead(0, 0x00));
        Assert.Equal(0x0600_0000u, pci.Cf8Read(0, 0x08));
        Assert.Equal(0x0000_00FFu, pci.Cf8Read(0, 0x0C)); // only the cache line size is writable
    }

    [Fact]
    public void CommandWritesThroughEcamAreSeenThroughThePortsAndStatusIsReadOnly()
    {
        pci.EcamWrite(0, 0x04, 0xFFFF_0507);

        Assert.Equal(0x0000_0507u, pci.Cf8Read(0, 0x04));

        pci.OutL(0xCF8, PciTestBus.Cf8Address(0, 0, 0x04));
        Assert.True(pci.Io.Write(0xCFC, [0x06]));
        Assert.Equal(0x0000_0506u, pci.EcamRead(0, 0x04));
    }

    [Fact]
    public void DisabledAddressDropsDataWrites()
    {
        pci.OutL(0xCF8, 0x0000_0004);
        pci.OutL(0xCFC, 0x0000_0006);

        Assert.Equal(0u, pci.Cf8Read(0, 0x04));
    }

    [Fact]
    public void SegmentSitsWhereMcfgSaysAndOnlySegmentZeroTakesThePorts()
    {
        Assert.Equal(0xE800_0000ul, pci.Segment.EcamBase);
        Assert.Equal(0xE810_0000ul, PciSegment.EcamBaseOf(1));
        Assert.NotNull(pci.Segment.ConfigIo);
        Assert.False(pci.Mmio.Read(0xE810_0000, new byte[4])); // segment 1 is not there
    }

    [Fact]
    public void SlotsAreHandedOutLowestFirstAfterTheHostBridge()
    {
        var bus = pci.Segment.Bus;

        Assert.Equal(1, bus.AllocateSlot());
        bus.ReserveSlot(5);
        Assert.Equal(2, bus.AllocateSlot());
        Assert.Equal("Valid PCI device identifier but already used", Assert.Throws<PciException>(() => bus.ReserveSlot(5)).Message);
        Assert.Equal("Invalid PCI device identifier provided", Assert.Throws<PciException>(() => bus.ReserveSlot(32)).Message);
        Assert.Equal(7, pci.Segment.IntxIrq(2));
        Assert.Equal(5, pci.Segment.IntxIrq(8));
    }

    [Fact]
    public void ABusFullOfDevicesRefusesAnother()
    {
        var bus = pci.Segment.Bus;
        for (var i = 1; i < PciBus.SlotCount; i++)
        {
            bus.AllocateSlot();
        }

        Assert.Equal("Could not find an available device slot on the PCI bus", Assert.Throws<PciException>(() => bus.AllocateSlot()).Message);
    }
}
