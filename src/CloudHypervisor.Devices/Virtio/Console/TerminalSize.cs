using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Console;

/// <summary>A terminal's size in character cells, as TIOCGWINSZ reports it.</summary>
public readonly record struct TerminalSize(ushort Columns, ushort Rows)
{
    private const ulong TiocGWinSz = 0x5413;

    /// <summary>The size of the terminal behind <paramref name="fd"/>; 0×0 when it is not a terminal.</summary>
    public static unsafe TerminalSize Of(int fd)
    {
        // struct winsize: ws_row, ws_col, ws_xpixel, ws_ypixel.
        var winsize = stackalloc ushort[4];
        return Libc.Ioctl(fd, TiocGWinSz, winsize) == 0 ? new TerminalSize(winsize[1], winsize[0]) : default;
    }
}
