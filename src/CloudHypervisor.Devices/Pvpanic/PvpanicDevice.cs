using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Pvpanic;

/// <summary>
/// The pvpanic PCI device (`__pvpanic`, QEMU's 1b36:0011, class 08/80, revision 1) with upstream's
/// one 32-bit memory BAR of 2 bytes: reading it gives the events supported (panicked, crash loaded),
/// writing an event reports it.
/// </summary>
public sealed class PvpanicDevice : PciDevice
{
    public const ushort VendorId = 0x1B36;
    public const ushort DeviceId = 0x0011;
    public const string DefaultId = "__pvpanic";
    public const ulong BarSize = 0x2;
    public const ulong BarAlignment = 0x10;
    public const byte Panicked = 1 << 0;
    public const byte CrashLoaded = 1 << 1;

    private const byte BaseSystemPeripheral = 0x08;
    private const byte OtherSubclass = 0x80;
    private const int BarIndex = 0;

    private readonly Action<string> report;

    /// <summary><paramref name="report"/> hears each guest event (<c>panic</c>, <c>crash_loaded</c>, <c>unknown_event</c>).</summary>
    public PvpanicDevice(ulong barAddress, Action<string> report)
        : base(new PciConfigSpace(new PciIds(VendorId, DeviceId, BaseSystemPeripheral, OtherSubclass, Revision: 1)))
    {
        this.report = report;
        Config.AddBar(new PciBar(BarIndex, barAddress, BarSize, PciBarRegion.Memory32));

        // I/O and memory decoding and SERR# on, as upstream leaves the command register.
        Config.WriteRegister(1, 0, [0x03, 0x01]);
    }

    public PciBar Bar => new(BarIndex, Config.BarAddress(BarIndex), BarSize, PciBarRegion.Memory32);

    /// <summary>The event name upstream reports for a value the guest wrote.</summary>
    public static string EventName(byte value) => value switch
    {
        Panicked => "panic",
        CrashLoaded => "crash_loaded",
        _ => "unknown_event",
    };

    public override void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        data.Clear();
        if (!data.IsEmpty)
        {
            data[0] = Panicked | CrashLoaded;
        }
    }

    public override void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var name = EventName(data[0]);
        Log.Info($"pvpanic got guest event {name}");
        report(name);
    }
}
