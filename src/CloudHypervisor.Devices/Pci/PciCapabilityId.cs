namespace CloudHypervisor.Devices.Pci;

/// <summary>Capability ids of the capabilities the VMM's devices expose.</summary>
public static class PciCapabilityId
{
    public const byte Msi = 0x05;
    public const byte VendorSpecific = 0x09;
    public const byte PciExpress = 0x10;
    public const byte MsiX = 0x11;
}
