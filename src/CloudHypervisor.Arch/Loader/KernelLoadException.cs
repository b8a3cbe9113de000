using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Arch.Loader;

public sealed class KernelLoadException : ChainedException
{
    public KernelLoadException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}
