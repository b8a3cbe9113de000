using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>A TAP interface could not be opened or configured.</summary>
public sealed class TapException : ChainedException
{
    public TapException(string message)
        : base(message)
    {
    }

    public TapException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
