namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// ECAM (PCIe enhanced configuration access) over a segment's 1 MiB MMCONFIG slice, as MCFG advertises
/// it: offset bits 27:20 bus, 19:15 device, 14:12 function, 11:2 register. Accesses must stay within
/// one dword. Like upstream, the function number is not decoded: functions 1–7 mirror function 0,
/// whose header says it is single-function.
/// </summary>
public sealed class PciConfigMmio : IBusDevice
{
    /// <summary>One bus per segment: 32 devices × 8 functions × 4 KiB.</summary>
    public const ulong SegmentSize = 1UL << 20;

    private readonly PciBus bus;

    public PciConfigMmio(PciBus bus)
    {
        this.bus = bus;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        var start = (int)(offset % 4);
        if (start + data.Length > 4 || offset > uint.MaxValue)
        {
            data.Fill(0xFF);
            return;
        }

        var target = Decode((uint)offset);
        var value = target.Bus == 0 ? bus.ReadConfig(target.Device, target.Register) : 0xFFFF_FFFF;
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(value >> ((start + i) * 8));
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if ((int)(offset % 4) + data.Length > 4 || offset > uint.MaxValue)
        {
            return;
        }

        var target = Decode((uint)offset);
        if (target.Bus == 0)
        {
            bus.WriteConfig(target.Device, target.Register, (int)(offset % 4), data);
        }
    }

    private static ConfigTarget Decode(uint offset) =>
        new((int)(offset >> 20) & 0xFF, (int)(offset >> 15) & 0x1F, (int)(offset >> 12) & 0x7, (int)(offset >> 2) & 0x3FF);
}
