using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>A virtio device could not be created or activated.</summary>
public sealed class VirtioException : ChainedException
{
    public VirtioException(string message)
        : base(message)
    {
    }

    public VirtioException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
