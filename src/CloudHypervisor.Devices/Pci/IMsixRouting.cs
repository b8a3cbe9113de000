using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Devices.Pci;

/// <summary>Where an MSI-X table sends its vectors: one interrupt route and one trigger per vector.</summary>
public interface IMsixRouting
{
    /// <summary>Vector <paramref name="vector"/> now delivers <paramref name="message"/>, or nothing while <paramref name="masked"/>.</summary>
    void Update(int vector, MsiMessage message, bool masked);

    /// <summary>MSI-X was disabled or the function masked: the vector delivers nothing.</summary>
    void Disable(int vector);

    /// <summary>Raises the vector now through its route.</summary>
    void Trigger(int vector);
}
