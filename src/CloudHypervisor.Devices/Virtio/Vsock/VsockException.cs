using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>The vsock Unix-socket backend could not be set up (upstream's VsockUnixError texts).</summary>
public sealed class VsockException : ChainedException
{
    public VsockException(string message)
        : base(message)
    {
    }

    public VsockException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
