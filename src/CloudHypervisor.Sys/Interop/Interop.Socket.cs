using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Socket syscalls (x86-64 Linux values).</summary>
public static partial class Libc
{
    public const int AfUnix = 1;
    public const int SockStream = 1, SockNonBlock = 0x800, SockCloExec = 0x80000;
    public const int SolSocket = 1, SoType = 3, SoError = 4, SoPeerCred = 17, SoAcceptConn = 30;
    public const int ScmRights = 1;
    public const int MsgCTrunc = 0x8, MsgDontWait = 0x40, MsgNoSignal = 0x4000, MsgCMsgCloExec = 0x40000000;
    public const int MsgPeek = 0x2;
    public const int ShutRd = 0, ShutWr = 1, ShutRdWr = 2;
    public const int LockSh = 1, LockEx = 2, LockNb = 4, LockUn = 8;
    public const short FRdLck = 0, FWrLck = 1, FUnLck = 2;
    public const int FOfdGetLk = 36, FOfdSetLk = 37, FOfdSetLkW = 38;
    public const int ENoEnt = 2, EBadF = 9, EPipe = 32, EWouldBlock = EAgain, EInProgress = 115, EConnRefused = 111,
        EConnReset = 104, EAddrInUse = 98, ENotSock = 88;

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Name, EntryPoint = "socketpair", SetLastError = true)]
    public static unsafe partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    public static unsafe partial int Bind(int fd, SockAddrUn* address, uint addressLength);

    [LibraryImport(Name, EntryPoint = "connect", SetLastError = true)]
    public static unsafe partial int Connect(int fd, SockAddrUn* address, uint addressLength);

    [LibraryImport(Name, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(Name, EntryPoint = "accept4", SetLastError = true)]
    public static unsafe partial int Accept4(int fd, SockAddrUn* address, uint* addressLength, int flags);

    [LibraryImport(Name, EntryPoint = "sendmsg", SetLastError = true)]
    public static unsafe partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Name, EntryPoint = "recvmsg", SetLastError = true)]
    public static unsafe partial nint RecvMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Name, EntryPoint = "send", SetLastError = true)]
    public static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    public static unsafe partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(Name, EntryPoint = "getsockname", SetLastError = true)]
    public static unsafe partial int GetSockName(int fd, SockAddrUn* address, uint* addressLength);

    [LibraryImport(Name, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Name, EntryPoint = "fcntl", SetLastError = true)]
    public static unsafe partial int FcntlLock(int fd, int cmd, Flock64* request);

    [LibraryImport(Name, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    /// <summary>Reads an int-valued socket option (SO_TYPE, SO_ACCEPTCONN, SO_ERROR); -1 with errno set on failure.</summary>
    public static unsafe int GetSockOptInt(int fd, int level, int name)
    {
        var value = 0;
        var length = (uint)sizeof(int);
        return GetSockOpt(fd, level, name, &value, &length) == 0 ? value : -1;
    }
}
