using System.Buffers.Binary;
using CloudHypervisor.Devices.Acpi;

namespace CloudHypervisor.Tests.Devices.Acpi;

public class PciHotplugControllerTests
{
    private const ulong Base = 0x3FFF_FFFE_F000;

    [Fact]
    public void SlotsUpAndDownAreReportedForTheSelectedSegmentAndClearedByTheRead()
    {
        var controller = new PciHotplugController(2, (_, _) => { });
        controller.SlotUp(0, 3);
        controller.SlotUp(1, 5);
        controller.SlotDown(1, 2);

        Assert.Equal(1u << 3, Read(controller, 0));
        Assert.Equal(0u, Read(controller, 0));
        Assert.Equal(0u, Read(controller, 4));

        Write(controller, 12, 1);
        Assert.Equal(1u, Read(controller, 12));
        Assert.Equal(1u << 5, Read(controller, 0));
        Assert.Equal(1u << 2, Read(controller, 4));
        Assert.Equal(0u, Read(controller, 4));
    }

    [Fact]
    public void WritingB0ejEjectsEachSlotOfTheSelectedSegment()
    {
        var ejected = new List<(ushort, int)>();
        var controller = new PciHotplugController(2, (segment, slot) => ejected.Add((segment, slot)));
        Write(controller, 12, 1);
        Write(controller, 8, (1u << 4) | (1u << 31));
        Assert.Equal([((ushort)1, 4), ((ushort)1, 31)], ejected);
        Assert.Equal(0u, Read(controller, 8));
    }

    [Fact]
    public void ASegmentBeyondTheLastIsNotSelected()
    {
        var controller = new PciHotplugController(1, (_, _) => { });
        Write(controller, 12, 7);
        Assert.Equal(0u, Read(controller, 12));
    }

    private static uint Read(PciHotplugController controller, ulong offset)
    {
        Span<byte> data = stackalloc byte[4];
        controller.Read(Base, offset, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    private static void Write(PciHotplugController controller, ulong offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        controller.Write(Base, offset, data);
    }
}
