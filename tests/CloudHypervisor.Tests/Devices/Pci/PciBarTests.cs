using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>BARs as a guest's PCI core sizes, reads and moves them.</summary>
public class PciBarTests
{
    private readonly PciTestBus pci = new();
    private readonly TestPciDevice device = new();

    [Fact]
    public void A32BitBarReportsItsAddressTypeAndSize()
    {
        Plug(new PciBar(0, 0xE7F8_0000, 0x8_0000, PciBarRegion.Memory32));

        Assert.Equal(0xE7F8_0000u, pci.Cf8Read(1, 0x10));
        pci.Cf8Write(1, 0x10, 0xFFFF_FFFF);
        Assert.Equal(0xFFF8_0000u, pci.Cf8Read(1, 0x10));
        pci.Cf8Write(1, 0x10, 0xE7F8_0000);
        Assert.Equal(0xE7F8_0000u, pci.Cf8Read(1, 0x10));
        Assert.Empty(device.Moves);
    }

    [Fact]
    public void A64BitBarSizesThroughBothHalvesAndKeepsItsTypeBits()
    {
        Plug(new PciBar(0, 0x3FFF_FF80_0000, 0x8_0000, PciBarRegion.Memory64));

        Assert.Equal(0xFF80_0004u, pci.EcamRead(1, 0x10));
        Assert.Equal(0x3FFFu, pci.EcamRead(1, 0x14));

        pci.EcamWrite(1, 0x10, 0xFFFF_FFFF);
        pci.EcamWrite(1, 0x14, 0xFFFF_FFFF);
        Assert.Equal(0xFFF8_0004u, pci.EcamRead(1, 0x10));
        Assert.Equal(0xFFFF_FFFFu, pci.EcamRead(1, 0x14));

        pci.EcamWrite(1, 0x10, 0xFF80_0000);
        pci.EcamWrite(1, 0x14, 0x3FFF);
        Assert.Equal(0x3FFF_FF80_0000ul, device.Config.BarAddress(0));
        Assert.Empty(device.Moves);
    }

    [Fact]
    public void A64BitBarOver4GiBSizesItsUpperHalfToo()
    {
        Plug(new PciBar(2, 0x20_0000_0000, 0x2_0000_0000, PciBarRegion.Memory64, Prefetchable: true));

        Assert.Equal(0x0000_000Cu, pci.EcamRead(1, 0x18)); // 64-bit, prefetchable
        pci.EcamWrite(1, 0x18, 0xFFFF_FFFF);
        pci.EcamWrite(1, 0x1C, 0xFFFF_FFFF);
        Assert.Equal(0x0000_000Cu, pci.EcamRead(1, 0x18));
        Assert.Equal(0xFFFF_FFFEu, pci.EcamRead(1, 0x1C));
    }

    [Fact]
    public void UnusedBarsStayZeroWhenSized()
    {
        Plug(new PciBar(0, 0xE7F8_0000, 0x8_0000, PciBarRegion.Memory32));

        pci.Cf8Write(1, 0x14, 0xFFFF_FFFF);
        pci.Cf8Write(1, 0x30, 0xFFFF_FFFF); // expansion ROM

        Assert.Equal(0u, pci.Cf8Read(1, 0x14));
        Assert.Equal(0u, pci.Cf8Read(1, 0x30));
    }

    [Fact]
    public void BarAccessesReachTheDeviceWithTheBarBase()
    {
        Plug(new PciBar(0, 0xE7F8_0000, 0x8_0000, PciBarRegion.Memory32));

        var data = new byte[4];
        Assert.True(pci.Mmio.Read(0xE7F8_0010, data));
        Assert.Equal([0x10, 0x10, 0x10, 0x10], data);
        Assert.True(pci.Mmio.Write(0xE7F8_2000, [1, 2]));
        Assert.Equal((0xE7F8_0000ul, 0x2000ul), (device.Writes[0].Base, device.Writes[0].Offset));
    }

    [Fact]
    public void ReprogrammingA32BitBarMovesItsMappingAndTellsTheDevice()
    {
        Plug(new PciBar(0, 0xE7F8_0000, 0x8_0000, PciBarRegion.Memory32));

        pci.Cf8Write(1, 0x10, 0xD000_0000);

        Assert.Equal([(0xE7F8_0000ul, 0xD000_0000ul)], device.Moves);
        Assert.False(pci.Mmio.Read(0xE7F8_0000, new byte[4]));
        Assert.True(pci.Mmio.Read(0xD000_0000, new byte[4]));
        Assert.Equal(0xD000_0000ul, device.Config.BarAddress(0));
    }

    [Fact]
    public void A64BitBarMovesOnlyOnceItsUpperHalfIsWritten()
    {
        Plug(new PciBar(0, 0x3FFF_FF80_0000, 0x8_0000, PciBarRegion.Memory64));

        pci.EcamWrite(1, 0x10, 0x0080_0000);
        Assert.Empty(device.Moves);
        pci.EcamWrite(1, 0x14, 0x0000_0010);

        Assert.Equal([(0x3FFF_FF80_0000ul, 0x10_0080_0000ul)], device.Moves);
        Assert.True(pci.Mmio.Read(0x10_0080_0000, new byte[4]));
        Assert.False(pci.Mmio.Read(0x3FFF_FF80_0000, new byte[4]));
    }

    [Fact]
    public void AMoveOutsideTheWindowsLeavesTheMappingWhereItWas()
    {
        Plug(new PciBar(0, 0xE7F8_0000, 0x8_0000, PciBarRegion.Memory32));

        pci.Cf8Write(1, 0x10, 0x0010_0000); // guest RAM

        Assert.Empty(device.Moves);
        Assert.True(pci.Mmio.Read(0xE7F8_0000, new byte[4]));
    }

    [Theory]
    [InlineData(6, 0x1000ul, PciBarRegion.Memory32, "bar 6 invalid, max 5")]
    [InlineData(0, 0x3000ul, PciBarRegion.Memory32, "bar address 12288 not a power of two")]
    [InlineData(5, 0x1000ul, PciBarRegion.Memory64, "64bitbar 5 invalid, requires two regs, max 5")]
    public void InvalidBarsAreRefused(int index, ulong size, PciBarRegion region, string message)
    {
        var config = new PciConfigSpace(new PciIds(1, 2, 3, 4));

        Assert.Equal(message, Assert.Throws<PciException>(() => config.AddBar(new PciBar(index, 0xC000_0000, size, region))).Message);
    }

    [Fact]
    public void ABarRegisterCannotBeUsedTwice()
    {
        var config = new PciConfigSpace(new PciIds(1, 2, 3, 4));
        config.AddBar(new PciBar(0, 0x1_0000_0000, 0x1000, PciBarRegion.Memory64));

        Assert.Equal("bar 1 already used", Assert.Throws<PciException>(() => config.AddBar(new PciBar(1, 0xC000_0000, 0x1000, PciBarRegion.Memory32))).Message);
    }

    private void Plug(PciBar bar)
    {
        var window = bar.Region == PciBarRegion.Memory32 ? pci.Segment.Mmio32 : pci.Segment.Mmio64;
        if (window.Contains(bar.Address, bar.Size))
        {
            Assert.True(window.TryAllocateAt(bar.Address, bar.Size));
        }

        device.Config.AddBar(bar);
        var slot = pci.Segment.Bus.AllocateSlot();
        Assert.Equal(1, slot);
        pci.Segment.AddDevice(slot, device, [bar]);
    }
}
