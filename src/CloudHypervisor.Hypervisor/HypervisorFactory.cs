using CloudHypervisor.Hypervisor.Kvm;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Hypervisor;

public static class HypervisorFactory
{
    /// <summary>Opens the first available backend: KVM (MSHV's /dev/mshv is not supported yet).</summary>
    public static IHypervisor Create()
    {
        if (!KvmHypervisor.IsAvailable)
        {
            throw new HypervisorException("Failed to create the hypervisor", new ChainedException("no supported hypervisor"));
        }

        try
        {
            return KvmHypervisor.Open();
        }
        catch (OsException e)
        {
            throw new HypervisorException("Failed to create Vm", e);
        }
    }
}
