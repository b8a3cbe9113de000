namespace CloudHypervisor.Devices.Legacy;

/// <summary>
/// The CMOS RTC at 0x70/0x71: BCD wall-clock time (UTC), RAM size registers, and the
/// "shutdown status 0x8F = 0" reset that some kernels use. No periodic IRQ 8.
/// </summary>
public sealed class Cmos : IBusDevice
{
    public const ushort Port = 0x70;
    public const int Length = 2;
    private const byte ResetIndex = 0x8F;
    private readonly object gate = new();
    private readonly byte[] data = new byte[128];
    private readonly IVmControl vm;
    private byte index;

    public Cmos(ulong memoryBelow4G, ulong memoryAbove4G, IVmControl vm)
    {
        this.vm = vm;
        var low = memoryBelow4G > (16UL << 20) ? Math.Min((memoryBelow4G - (16UL << 20)) >> 16, 0xFFFF) : 0;
        var high = Math.Min(memoryAbove4G >> 16, 0xFF_FFFF);
        data[0x34] = (byte)low;
        data[0x35] = (byte)(low >> 8);
        data[0x5B] = (byte)high;
        data[0x5C] = (byte)(high >> 8);
        data[0x5D] = (byte)(high >> 16);
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> buffer)
    {
        if (buffer.Length != 1)
        {
            buffer.Clear();
            return;
        }

        lock (gate)
        {
            buffer[0] = offset == 0 ? index : ReadRegister((byte)(index & 0x7F));
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length != 1)
        {
            return;
        }

        var reset = false;
        lock (gate)
        {
            if (offset == 0)
            {
                index = buffer[0];
            }
            else if (index == ResetIndex && buffer[0] == 0)
            {
                reset = true;
            }
            else
            {
                data[index & 0x7F] = buffer[0];
            }
        }

        if (reset)
        {
            vm.RequestReset();
        }
    }

    private static byte Bcd(int value) => (byte)(((value / 10) << 4) | (value % 10));

    private byte ReadRegister(byte register)
    {
        var now = DateTime.UtcNow;
        return register switch
        {
            0x00 => Bcd(now.Second),
            0x02 => Bcd(now.Minute),
            0x04 => Bcd(now.Hour),
            0x06 => Bcd((int)now.DayOfWeek + 1),
            0x07 => Bcd(now.Day),
            0x08 => Bcd(now.Month),
            0x09 => Bcd(now.Year % 100),
            0x32 => Bcd(now.Year / 100),
            // Update-in-progress during the last 244 us of each second, as on real hardware.
            0x0A => (byte)(0x20 | (now.Ticks % TimeSpan.TicksPerSecond >= TimeSpan.TicksPerSecond - 2440 ? 0x80 : 0)),
            0x0B => 0x02, // 24-hour mode, BCD
            0x0D => 0x80, // RTC battery good
            _ => data[register],
        };
    }
}
