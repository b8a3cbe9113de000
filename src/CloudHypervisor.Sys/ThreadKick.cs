using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>
/// A real-time signal used to knock a thread out of a blocking syscall (a vCPU out of KVM_RUN).
/// The handler must be native code that touches no managed state, since it can run at any
/// instruction; a one-byte `ret` in its own executable page is exactly that.
/// </summary>
public static class ThreadKick
{
    private static readonly object Gate = new();
    private static int signal;

    /// <summary>SIGRTMIN+2 (the runtime itself uses SIGRTMIN).</summary>
    public static int Signal
    {
        get
        {
            EnsureInstalled();
            return signal;
        }
    }

    public static void Kick(nuint pthread) => Libc.PthreadKill(pthread, Signal);

    private static unsafe void EnsureInstalled()
    {
        lock (Gate)
        {
            if (signal != 0)
            {
                return;
            }

            var page = Libc.Mmap(0, 4096, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
            if (page == Libc.MapFailed)
            {
                throw OsException.Last();
            }

            *(byte*)page = 0xC3; // ret
            if (Libc.Mprotect(page, 4096, Libc.ProtRead | Libc.ProtExec) != 0)
            {
                throw OsException.Last();
            }

            var number = Libc.CurrentSigRtMin() + 2;
            var action = default(Libc.SigAction);
            action.Handler = page;
            action.Flags = Libc.SaRestart;
            if (Libc.Sigaction(number, &action, null) != 0)
            {
                throw OsException.Last();
            }

            signal = number;
        }
    }
}
