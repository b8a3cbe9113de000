using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Http;

/// <summary>Opens the API listening socket for --api-socket, failing with upstream's error texts.</summary>
public static class ApiSocket
{
    /// <summary>
    /// path=: takes the "&lt;path&gt;.lock" lock, replaces a stale socket file and binds. Fails with
    /// <see cref="SocketPathInUseException"/> ("API socket "…" is already in use by another running instance")
    /// or "Error creation API server's socket" caused by the OS error.
    /// </summary>
    public static UnixSocketListener Listen(string path)
    {
        try
        {
            return UnixSocketListener.Bind(path);
        }
        catch (OsException e)
        {
            throw new ApiSocketException("Error creation API server's socket", e);
        }
        catch (ArgumentException)
        {
            // The path does not fit in sockaddr_un; Rust's standard library words it like this.
            throw new ApiSocketException("Error creation API server's socket", new ChainedException("path must be shorter than SUN_LEN"));
        }
    }

    /// <summary>fd=: adopts an already bound and listening socket ("Error creating API server: IO error: …" otherwise).</summary>
    public static UnixSocketListener Adopt(int fd)
    {
        try
        {
            return UnixSocketListener.FromFd(fd);
        }
        catch (OsException e)
        {
            throw new ApiSocketException($"Error creating API server: IO error: {e.Message}");
        }
    }
}

public sealed class ApiSocketException : ChainedException
{
    public ApiSocketException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}
