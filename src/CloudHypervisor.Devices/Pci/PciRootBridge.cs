namespace CloudHypervisor.Devices.Pci;

/// <summary>The host bridge at 00:00.0 of segment 0, with upstream's identity: Intel 8086:0D57, class 06/00/00.</summary>
public sealed class PciRootBridge : PciDevice
{
    public const ushort VendorId = 0x8086;
    public const ushort DeviceId = 0x0D57;

    public PciRootBridge()
        : base(new PciConfigSpace(new PciIds(VendorId, DeviceId, PciClass.Bridge, PciClass.HostBridgeSubclass)))
    {
    }

    public override void Read(ulong baseAddress, ulong offset, Span<byte> data) => data.Fill(0xFF);

    public override void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
