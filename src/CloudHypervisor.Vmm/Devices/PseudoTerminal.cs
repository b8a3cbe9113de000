using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// A new pseudo-terminal pair in raw mode. The VMM keeps the main side; users open <see cref="Path"/>.
/// The VMM also holds the peer open, so the main side never reports a hang-up between clients and
/// output written before anyone connects waits in the terminal's buffer.
/// </summary>
public sealed class PseudoTerminal : IDisposable
{
    private PseudoTerminal(SafeFd main, SafeFd peer, string path)
    {
        Main = main;
        Peer = peer;
        Path = path;
    }

    public SafeFd Main { get; }

    public SafeFd Peer { get; }

    /// <summary>The peer's device path, e.g. /dev/pts/3.</summary>
    public string Path { get; }

    /// <summary>Opens a pty for a serial or console backend, failing with upstream's console error chain.</summary>
    public static PseudoTerminal OpenForConsole()
    {
        try
        {
            return Open();
        }
        catch (ChainedException e)
        {
            throw new VmmException("Error creating console devices", new VmmException("Error creating console device", e));
        }
    }

    public static unsafe PseudoTerminal Open()
    {
        // The devpts instance of this mount namespace first, as upstream does.
        SafeFd main;
        try
        {
            main = SafeFd.Open("/dev/pts/ptmx", Libc.ORdWr | Libc.ONoCtty | Libc.ONonBlock);
        }
        catch (OsException)
        {
            main = SafeFd.Open("/dev/ptmx", Libc.ORdWr | Libc.ONoCtty | Libc.ONonBlock);
        }

        try
        {
            var unlock = 0;
            if (Libc.Ioctl(main.Fd, Libc.TiocSPtLck, &unlock) < 0)
            {
                throw OsException.Last();
            }

            var peer = SafeFd.FromResult(Libc.Ioctl(main.Fd, Libc.TiocGPtPeer, (ulong)(Libc.ORdWr | Libc.ONoCtty | Libc.OCloExec)));
            var path = new FileInfo($"/proc/self/fd/{peer.Fd}").LinkTarget
                ?? throw new OsException(2);
            RawTerminal.MakeRawWithoutRestore(peer.Fd);
            return new PseudoTerminal(main, peer, path);
        }
        catch
        {
            main.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Peer.Dispose();
        Main.Dispose();
    }
}
