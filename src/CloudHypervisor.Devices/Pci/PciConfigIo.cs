using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// Configuration mechanism #1 on ports 0xCF8–0xCFF: CONFIG_ADDRESS at 0xCF8 (bit 31 enable, bus
/// 23:16, device 15:11, function 10:8, register 7:2), CONFIG_DATA at 0xCFC, which also answers byte
/// and word accesses at 0xCFC+n. Only bus 0 and function 0 exist; everything else reads all ones.
/// As upstream, data writes do not decode the function number: they reach function 0.
/// </summary>
public sealed class PciConfigIo : IBusDevice
{
    public const ushort Port = 0xCF8;
    public const ulong Length = 8;

    private const uint EnableBit = 0x8000_0000;

    private readonly object gate = new();
    private readonly PciBus bus;
    private uint configAddress;

    public PciConfigIo(PciBus bus)
    {
        this.bus = bus;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        var start = (int)(offset % 4);
        if (offset >= Length || start + data.Length > 4)
        {
            data.Fill(0xFF);
            return;
        }

        uint value;
        lock (gate)
        {
            value = offset < 4 ? configAddress : ReadData();
        }

        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(value >> ((start + i) * 8));
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset >= Length || (int)(offset % 4) + data.Length > 4)
        {
            return;
        }

        lock (gate)
        {
            if (offset < 4)
            {
                SetAddress((int)offset, data);
            }
            else if ((configAddress & EnableBit) != 0 && Decode(configAddress) is { Bus: 0 } target)
            {
                bus.WriteConfig(target.Device, target.Register, (int)offset - 4, data);
            }
        }
    }

    private uint ReadData()
    {
        if ((configAddress & EnableBit) == 0 || Decode(configAddress) is not { Bus: 0, Function: 0 } target)
        {
            return 0xFFFF_FFFF;
        }

        return bus.ReadConfig(target.Device, target.Register);
    }

    private void SetAddress(int offset, ReadOnlySpan<byte> data)
    {
        var (mask, value) = data.Length switch
        {
            1 => (0xFFu << (offset * 8), (uint)data[0] << (offset * 8)),
            2 => (0xFFFFu << (offset * 8), (uint)BinaryPrimitives.ReadUInt16LittleEndian(data) << (offset * 8)),
            4 => (0xFFFF_FFFFu, BinaryPrimitives.ReadUInt32LittleEndian(data)),
            _ => (0u, 0u),
        };
        configAddress = (configAddress & ~mask) | value;
    }

    private static ConfigTarget Decode(uint address) =>
        new((int)(address >> 16) & 0xFF, (int)(address >> 11) & 0x1F, (int)(address >> 8) & 0x7, (int)(address >> 2) & 0x3F);
}
