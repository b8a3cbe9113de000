namespace CloudHypervisor.Devices.Pci;

/// <summary>The identity registers of a type 0 header.</summary>
public readonly record struct PciIds(
    ushort VendorId,
    ushort DeviceId,
    byte ClassCode,
    byte Subclass,
    byte ProgrammingInterface = 0,
    byte Revision = 0,
    ushort SubsystemVendorId = 0,
    ushort SubsystemId = 0);

/// <summary>Class codes and capability ids used by the devices the VMM builds.</summary>
public static class PciClass
{
    public const byte MassStorage = 0x01;
    public const byte NetworkController = 0x02;
    public const byte Bridge = 0x06;
    public const byte HostBridgeSubclass = 0x00;
    public const byte Other = 0xFF;
}
