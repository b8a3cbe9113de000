using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Hypervisor;

public sealed class HypervisorException : ChainedException
{
    public HypervisorException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}
