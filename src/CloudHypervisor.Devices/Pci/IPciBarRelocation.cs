namespace CloudHypervisor.Devices.Pci;

/// <summary>Carries out a BAR move the guest programmed: address space, bus mappings, then the device.</summary>
public interface IPciBarRelocation
{
    void MoveBar(PciDevice device, PciBarMove move);
}
