using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Terminal attributes and pseudo-terminals.</summary>
public static partial class Libc
{
    public const int TcsaNow = 0;

    /// <summary>TIOCSPTLCK: lock or unlock a pty's peer; TIOCGPTPEER: open the peer of a pty main.</summary>
    public const ulong TiocSPtLck = 0x4004_5431, TiocGPtPeer = 0x5441;

    /// <summary>glibc's struct termios on x86-64 (60 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Termios
    {
        public uint InputFlags, OutputFlags, ControlFlags, LocalFlags;
        public byte Line;
        public fixed byte ControlChars[32];
        public uint InputSpeed, OutputSpeed;
    }

    [LibraryImport(Name, EntryPoint = "tcgetattr", SetLastError = true)]
    public static unsafe partial int TcGetAttr(int fd, Termios* termios);

    [LibraryImport(Name, EntryPoint = "tcsetattr", SetLastError = true)]
    public static unsafe partial int TcSetAttr(int fd, int optionalActions, Termios* termios);

    [LibraryImport(Name, EntryPoint = "cfmakeraw")]
    public static unsafe partial void CfMakeRaw(Termios* termios);
}
