using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// Puts the controlling terminal into raw mode while the guest owns it (so keystrokes reach the
/// guest unprocessed and unechoed) and restores the original settings when the process exits.
/// </summary>
public static class RawTerminal
{
    private static readonly object Gate = new();
    private static Libc.Termios original;
    private static int originalFd = -1;

    /// <summary>Makes the terminal behind <paramref name="fd"/> raw; does nothing when it is not a terminal.</summary>
    public static unsafe void MakeRaw(int fd)
    {
        if (Libc.IsATty(fd) != 1)
        {
            return;
        }

        Libc.Termios termios;
        if (Libc.TcGetAttr(fd, &termios) != 0)
        {
            return;
        }

        lock (Gate)
        {
            if (originalFd < 0)
            {
                original = termios;
                originalFd = Libc.Dup(fd);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => Restore();
            }
        }

        Libc.CfMakeRaw(&termios);
        Libc.TcSetAttr(fd, Libc.TcsaNow, &termios);
    }

    /// <summary>Raw mode for a terminal the VMM created itself (a pty), which nobody needs restored.</summary>
    public static unsafe void MakeRawWithoutRestore(int fd)
    {
        Libc.Termios termios;
        if (Libc.TcGetAttr(fd, &termios) == 0)
        {
            Libc.CfMakeRaw(&termios);
            Libc.TcSetAttr(fd, Libc.TcsaNow, &termios);
        }
    }

    /// <summary>Gives the terminal back its settings from before the first <see cref="MakeRaw"/>.</summary>
    public static unsafe void Restore()
    {
        lock (Gate)
        {
            if (originalFd >= 0)
            {
                var termios = original;
                Libc.TcSetAttr(originalFd, Libc.TcsaNow, &termios);
            }
        }
    }
}
