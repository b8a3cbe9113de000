using System.Diagnostics;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Legacy;

/// <summary>
/// Port 0x80 (POST codes): each write is logged at WARN with the boot stage and the time since
/// the VM was created, in upstream's format (the fraction is the total microseconds, as upstream prints it).
/// </summary>
public sealed class DebugPort : IBusDevice
{
    public const ushort Port = 0x80;
    private readonly long start;

    public DebugPort(long vmCreatedTimestamp)
    {
        start = vmCreatedTimestamp;
    }

    public static string Stage(byte code) => code switch
    {
        <= 0x1F => "Firmware",
        <= 0x3F => "Bootloader",
        <= 0x5F => "Kernel",
        <= 0x7F => "Userspace",
        _ => "Custom",
    };

    public static string Format(byte code, TimeSpan elapsed)
    {
        var micros = (long)(elapsed.Ticks / (TimeSpan.TicksPerMillisecond / 1000));
        return $"[Debug I/O port: {Stage(code)} code 0x{code:x}] {(long)elapsed.TotalSeconds}.{micros:D6} seconds";
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        data.Clear();
        Log.Error("Invalid read from the debug port");
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length == 1 && Log.IsEnabled(LogLevel.Warn))
        {
            Log.Warn(Format(data[0], Stopwatch.GetElapsedTime(start)));
        }
    }
}
