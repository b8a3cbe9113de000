using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices.Pci;

/// <summary>A PCI topology or configuration-space request that cannot be honoured.</summary>
public sealed class PciException : ChainedException
{
    public PciException(string message)
        : base(message)
    {
    }

    public PciException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
