using System.Buffers.Binary;
using System.Diagnostics;

namespace CloudHypervisor.Devices.Legacy;

/// <summary>The ACPI PM timer at 0x608: a free-running 32-bit counter at 3.579545 MHz, read as a dword.</summary>
public sealed class PmTimer : IBusDevice
{
    public const ushort Port = 0x608;
    public const int Length = 4;
    private const long FrequencyHz = 3_579_545;
    private readonly long start = Stopwatch.GetTimestamp();

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        if (data.Length != 4)
        {
            data.Clear();
            return;
        }

        var elapsed = Stopwatch.GetTimestamp() - start;
        var ticks = (uint)((Int128)elapsed * FrequencyHz / Stopwatch.Frequency);
        BinaryPrimitives.WriteUInt32LittleEndian(data, ticks);
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
