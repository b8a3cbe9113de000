namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// Upstream's single virtio BAR (BAR 0, 512 KiB): each structure 8 KiB aligned, with the MSI-X
/// table and PBA at the end. Also the ids every virtio-pci function reports.
/// </summary>
public static class VirtioPciLayout
{
    public const int BarIndex = 0;
    public const ulong BarSize = 0x8_0000;

    /// <summary>Upstream aligns the 64-bit BAR to 8 MiB (a Windows driver workaround); a 32-bit BAR to its size.</summary>
    public const ulong Bar64Alignment = 0x80_0000;

    public const ulong CommonConfigOffset = 0x0;
    public const ulong CommonConfigSize = 56;
    public const ulong IsrOffset = 0x2000;
    public const ulong IsrSize = 1;
    public const ulong DeviceConfigOffset = 0x4000;
    public const ulong DeviceConfigSize = 0x1000;
    public const ulong NotifyOffset = 0x6000;
    public const uint NotifyOffMultiplier = 4;
    public const int MaxQueues = 0x400;
    public const ulong NotifySize = MaxQueues * NotifyOffMultiplier;
    public const ulong MsixTableOffset = 0x8000;
    public const ulong MsixTableSize = 0x4_0000;
    public const ulong MsixPbaOffset = 0x4_8000;
    public const ulong MsixPbaSize = 0x800;

    public const ushort VendorId = 0x1AF4;
    public const ushort DeviceIdBase = 0x1040;
    public const byte Revision = 1;

    /// <summary>The driver writes this vector number to mean "no interrupt".</summary>
    public const ushort NoVector = 0xFFFF;

    /// <summary>Where the notification write for queue <paramref name="queue"/> lands, from the BAR's base.</summary>
    public static ulong QueueNotifyOffset(int queue) => NotifyOffset + (ulong)queue * NotifyOffMultiplier;
}
