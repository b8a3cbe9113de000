using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Pvpanic;

namespace CloudHypervisor.Tests.Devices;

/// <summary>pvpanic as upstream builds it: QEMU's PCI identity, a 32-bit BAR, and guest writes reported as events.</summary>
public sealed class PvpanicDeviceTests
{
    private const ulong Bar = 0xE7FF_FFF0;

    [Fact]
    public void HasUpstreamsPciIdentityAndA32BitBar()
    {
        var device = new PvpanicDevice(Bar, _ => { });

        Assert.Equal(0x0011_1B36u, device.ReadConfigRegister(0));
        Assert.Equal(0x0880_0001u, device.ReadConfigRegister(2));
        Assert.Equal(0x0103u, device.ReadConfigRegister(1) & 0xFFFF);
        Assert.Equal((uint)Bar, device.ReadConfigRegister(4));
        Assert.Equal(new PciBar(0, Bar, 2, PciBarRegion.Memory32), device.Bar);
    }

    [Fact]
    public void ReadingTheBarGivesTheSupportedEvents()
    {
        var device = new PvpanicDevice(Bar, _ => { });
        var data = new byte[1];

        device.Read(Bar, 0, data);

        Assert.Equal(PvpanicDevice.Panicked | PvpanicDevice.CrashLoaded, data[0]);
    }

    [Theory]
    [InlineData(1, "panic")]
    [InlineData(2, "crash_loaded")]
    [InlineData(3, "unknown_event")]
    [InlineData(0, "unknown_event")]
    public void AGuestWriteIsReportedByName(byte value, string expected)
    {
        var events = new List<string>();
        var device = new PvpanicDevice(Bar, events.Add);

        device.Write(Bar, 0, [value]);

        Assert.Equal([expected], events);
    }
}
