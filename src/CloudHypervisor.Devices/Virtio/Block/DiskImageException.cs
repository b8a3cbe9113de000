using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>A disk image could not be opened, identified or locked.</summary>
public sealed class DiskImageException : ChainedException
{
    public DiskImageException(string message)
        : base(message)
    {
    }

    public DiskImageException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
