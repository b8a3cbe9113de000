using CloudHypervisor.Devices;
using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>Segment 0 on fresh buses, driven as a guest would drive it through ports and ECAM.</summary>
internal sealed class PciTestBus
{
    public const ulong EcamBase = 0xE800_0000;

    public PciTestBus()
    {
        var mmio32 = new PciMmioAllocator(0xC000_0000, 640UL << 20);
        var mmio64 = new PciMmioAllocator(0x1_0000_0000, 0x10_0000_0000);
        Segment = PciSegment.Create(0, Io, Mmio, mmio32, mmio64, [5, 6, 7, 8, 9, 10, 11, 12]);
    }

    public Bus Io { get; } = new();

    public Bus Mmio { get; } = new();

    public PciSegment Segment { get; }

    public static uint Cf8Address(int device, int function, int register, int bus = 0) =>
        0x8000_0000u | (uint)bus << 16 | (uint)device << 11 | (uint)function << 8 | (uint)register;

    public static ulong EcamAddress(int device, int function, int register, int bus = 0) =>
        EcamBase + ((ulong)bus << 20) + ((ulong)device << 15) + ((ulong)function << 12) + (ulong)register;

    public void OutL(ushort port, uint value) => Assert.True(Io.Write(port, BitConverter.GetBytes(value)));

    public uint InL(ushort port)
    {
        var data = new byte[4];
        Assert.True(Io.Read(port, data));
        return BitConverter.ToUInt32(data);
    }

    public ushort InW(ushort port)
    {
        var data = new byte[2];
        Assert.True(Io.Read(port, data));
        return BitConverter.ToUInt16(data);
    }

    public byte InB(ushort port)
    {
        var data = new byte[1];
        Assert.True(Io.Read(port, data));
        return data[0];
    }

    public uint Cf8Read(int device, int register, int function = 0, int bus = 0)
    {
        OutL(0xCF8, Cf8Address(device, function, register, bus));
        return InL(0xCFC);
    }

    public void Cf8Write(int device, int register, uint value)
    {
        OutL(0xCF8, Cf8Address(device, 0, register));
        OutL(0xCFC, value);
    }

    public uint EcamRead(int device, int register, int function = 0, int bus = 0)
    {
        var data = new byte[4];
        Assert.True(Mmio.Read(EcamAddress(device, function, register, bus), data));
        return BitConverter.ToUInt32(data);
    }

    public void EcamWrite(int device, int register, uint value) =>
        Assert.True(Mmio.Write(EcamAddress(device, 0, register), BitConverter.GetBytes(value)));
}
