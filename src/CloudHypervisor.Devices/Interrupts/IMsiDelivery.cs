using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Devices.Interrupts;

/// <summary>
/// Where interrupt controllers and MSI-capable devices send their messages: the GSI routing table
/// (which irqfds fire through) and direct injection.
/// </summary>
public interface IMsiDelivery
{
    /// <summary>Installs or replaces the route of <paramref name="gsi"/>.</summary>
    void SetRoute(uint gsi, MsiMessage message);

    void RemoveRoute(uint gsi);

    /// <summary>Injects <paramref name="message"/> into the guest now.</summary>
    void Send(MsiMessage message);
}
