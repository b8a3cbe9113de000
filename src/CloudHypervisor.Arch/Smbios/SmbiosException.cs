using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Arch.Smbios;

public sealed class SmbiosException : ChainedException
{
    public SmbiosException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}
