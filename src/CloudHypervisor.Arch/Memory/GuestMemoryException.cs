using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Arch.Memory;

public sealed class GuestMemoryException : ChainedException
{
    public GuestMemoryException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}
