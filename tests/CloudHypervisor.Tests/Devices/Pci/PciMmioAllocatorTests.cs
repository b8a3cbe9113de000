using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>BAR addresses come from the top of upstream's windows down.</summary>
public class PciMmioAllocatorTests
{
    [Fact]
    public void VirtioSized32BitBarsStackDownFromTheTopOfTheWindow()
    {
        var window = PciMmioWindows.Split(0xC000_0000, 0xC000_0000 + (640UL << 20), [1], PciMmioWindows.Mmio32Granularity)[0];

        Assert.Equal((0xC000_0000ul, 0xE7FF_FFFFul), (window.Start, window.End));
        Assert.True(window.TryAllocate(0x8_0000, 0x8_0000, out var first));
        Assert.True(window.TryAllocate(0x8_0000, 0x8_0000, out var second));
        Assert.Equal((0xE7F8_0000ul, 0xE7F0_0000ul), (first, second));
    }

    [Fact]
    public void AlignmentLeavesAGapThatSmallerRequestsFill()
    {
        var window = new PciMmioAllocator(0x1000, 0x10000);

        Assert.True(window.TryAllocate(0x110, 0x100, out var a));
        Assert.True(window.TryAllocate(0x100, 0x100, out var b));
        Assert.True(window.TryAllocate(0x10, 0x100, out var c));

        Assert.Equal((0x10E00ul, 0x10D00ul, 0x10C00ul), (a, b, c));
    }

    [Fact]
    public void AFullWindowRefusesAndFreedRangesAreReused()
    {
        var window = new PciMmioAllocator(0x1000, 0x1000);

        Assert.True(window.TryAllocate(0x800, 0x100, out var high));
        Assert.False(window.TryAllocate(0x900, 0x100, out _));
        Assert.True(window.TryAllocate(0x400, 0x100, out var low));
        Assert.Equal((0x1800ul, 0x1400ul), (high, low));

        window.Free(high, 0x800);
        Assert.True(window.TryAllocateAt(0x1A00, 0x600));
        Assert.False(window.TryAllocateAt(0x1300, 0x200)); // overlaps the low range
        Assert.False(window.TryAllocateAt(0x1F00, 0x200)); // leaves the window
    }

    [Fact]
    public void SegmentsShareAnAreaByWeightOnGranularBoundaries()
    {
        var windows = PciMmioWindows.Split(0xC000_0000, 0xC000_0000 + (640UL << 20), [1, 3], PciMmioWindows.Mmio32Granularity);

        Assert.Equal((0xC000_0000ul, 0xC000_0000ul + (160UL << 20) - 1), (windows[0].Start, windows[0].End));
        Assert.Equal((0xCA00_0000ul, 0xE7FF_FFFFul), (windows[1].Start, windows[1].End));
    }

    [Fact]
    public void The64BitDeviceAreaIsCutToWholeGibibyteUnits()
    {
        var windows = PciMmioWindows.Split(0x1_0000_0000, 0x3FFF_FFEE_FFFF, [1], PciMmioWindows.Mmio64Granularity);

        Assert.Equal((0x1_0000_0000ul, 0x3FFE_FFFF_FFFFul), (windows[0].Start, windows[0].End));
    }
}
