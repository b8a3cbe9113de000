using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>An eventfd counter, used to signal between threads and to KVM (irqfd, ioeventfd).</summary>
public sealed class EventFd : IDisposable
{
    public EventFd(bool nonBlocking = false)
    {
        Handle = SafeFd.FromResult(Libc.EventFd(0, Libc.EfdCloExec | (nonBlocking ? Libc.EfdNonBlock : 0)));
    }

    public SafeFd Handle { get; }

    public int Fd => Handle.Fd;

    public unsafe void Write(ulong value = 1)
    {
        if (Libc.Write(Fd, (byte*)&value, sizeof(ulong)) != sizeof(ulong))
        {
            throw OsException.Last();
        }
    }

    /// <summary>Reads and resets the counter; returns 0 when a non-blocking eventfd is not signalled.</summary>
    public unsafe ulong Read()
    {
        ulong value = 0;
        return Libc.Read(Fd, (byte*)&value, sizeof(ulong)) == sizeof(ulong) ? value : 0;
    }

    public void Dispose() => Handle.Dispose();
}
