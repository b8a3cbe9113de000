using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm;

/// <summary>An error raised by the VMM core, carrying upstream's message and its cause.</summary>
public class VmmException : ChainedException
{
    public VmmException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }

    /// <summary>A configured feature this implementation cannot provide yet; reported, never ignored.</summary>
    public static VmmException NotSupportedYet(string feature) => new($"not supported yet: {feature}");
}
