using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>
/// A listening AF_UNIX stream socket, non-blocking and close-on-exec. When bound to a path it holds
/// an exclusive whole-file OFD write lock on "&lt;path&gt;.lock" (the lock file is created, never deleted),
/// so a second instance cannot unlink a socket that is in use; with the lock held, a leftover socket
/// file from a crashed run is removed before binding.
/// </summary>
public sealed class UnixSocketListener : IDisposable
{
    private readonly SafeFd? lockFile;

    private UnixSocketListener(SafeFd socket, string? path, SafeFd? lockFile)
    {
        Socket = socket;
        Path = path;
        this.lockFile = lockFile;
    }

    public SafeFd Socket { get; }

    public int Fd => Socket.Fd;

    /// <summary>The filesystem path, or null for an inherited descriptor.</summary>
    public string? Path { get; }

    /// <summary>
    /// Locks "&lt;path&gt;.lock", removes any stale file at <paramref name="path"/>, binds and listens.
    /// Throws <see cref="SocketPathInUseException"/> when another process holds the lock and
    /// <see cref="OsException"/> when a syscall fails.
    /// </summary>
    public static UnixSocketListener Bind(string path, int backlog = 128)
    {
        var address = Libc.SockAddrUn.ForPath(path, out var addressLength);
        var lockFile = AcquireLock(path);
        try
        {
            Libc.Unlink(path); // Usually absent; any other problem shows up at bind.
            var socket = SafeFd.FromResult(Libc.Socket(Libc.AfUnix, Libc.SockStream | Libc.SockNonBlock | Libc.SockCloExec, 0));
            try
            {
                BindAndListen(socket.Fd, ref address, addressLength, backlog);
                return new UnixSocketListener(socket, path, lockFile);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adopts an already bound and listening socket (--api-socket fd=), taking ownership of it and
    /// switching it to non-blocking mode. Throws <see cref="OsException"/> (EBADF, ENOTSOCK, EINVAL for
    /// a socket that is not listening).
    /// </summary>
    public static UnixSocketListener FromFd(int fd)
    {
        var flags = Libc.Fcntl(fd, Libc.FGetFl, 0);
        if (flags < 0 || Libc.Fcntl(fd, Libc.FSetFl, flags | Libc.ONonBlock) < 0)
        {
            throw OsException.Last();
        }

        var listening = Libc.GetSockOptInt(fd, Libc.SolSocket, Libc.SoAcceptConn);
        if (listening < 0)
        {
            throw OsException.Last();
        }

        if (listening == 0)
        {
            throw new OsException(22); // EINVAL, what accept(2) reports on a non-listening socket.
        }

        return new UnixSocketListener(new SafeFd(fd), null, null);
    }

    /// <summary>Accepts one pending connection as a non-blocking, close-on-exec socket; null when none is pending.</summary>
    public unsafe SafeFd? TryAccept()
    {
        while (true)
        {
            var fd = Libc.Accept4(Fd, null, null, Libc.SockNonBlock | Libc.SockCloExec);
            if (fd >= 0)
            {
                return new SafeFd(fd);
            }

            var errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case Libc.EIntr:
                    continue;
                case Libc.EAgain:
                case 103: // ECONNABORTED: the peer gave up before we got to it.
                    return null;
                default:
                    throw new OsException(errno);
            }
        }
    }

    /// <summary>Removes the socket file (the lock file stays, as upstream).</summary>
    public void RemoveSocketFile()
    {
        if (Path is not null)
        {
            Libc.Unlink(Path);
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        lockFile?.Dispose();
    }

    private static unsafe void BindAndListen(int fd, ref Libc.SockAddrUn address, uint addressLength, int backlog)
    {
        fixed (Libc.SockAddrUn* a = &address)
        {
            if (Libc.Bind(fd, a, addressLength) != 0 || Libc.Listen(fd, backlog) != 0)
            {
                throw OsException.Last();
            }
        }
    }

    private static unsafe SafeFd AcquireLock(string path)
    {
        var lockFile = SafeFd.Open(path + ".lock", Libc.OWrOnly | Libc.OCreat, 0b110_110_110);
        var request = new Libc.Flock64 { Type = Libc.FWrLck, Whence = 0, Start = 0, Length = 0 };
        while (Libc.FcntlLock(lockFile.Fd, Libc.FOfdSetLk, &request) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EIntr)
            {
                continue;
            }

            lockFile.Dispose();
            throw errno is Libc.EAgain or 13 /* EACCES */ ? new SocketPathInUseException(path) : new OsException(errno);
        }

        return lockFile;
    }
}

/// <summary>Another running process holds the lock on this socket path.</summary>
public sealed class SocketPathInUseException(string path)
    : ChainedException($"API socket {RustDebugString(path)} is already in use by another running instance")
{
    public string Path { get; } = path;

    /// <summary>The path as Rust's Debug formatting prints it: quoted, with quotes, backslashes and controls escaped.</summary>
    private static string RustDebugString(string value)
    {
        var text = new System.Text.StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\0' => text.Append("\\0"),
                < ' ' or '\x7f' => text.Append("\\u{").Append(((int)c).ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append('}'),
                _ => text.Append(c),
            };
        }

        return text.Append('"').ToString();
    }
}
