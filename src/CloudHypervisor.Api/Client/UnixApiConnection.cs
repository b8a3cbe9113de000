using System.Runtime.InteropServices;
using System.Text;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Api.Client;

/// <summary>A blocking AF_UNIX stream connection to an API socket path.</summary>
public sealed class UnixApiConnection : IApiConnection
{
    private readonly SafeFd socket;

    private UnixApiConnection(SafeFd socket)
    {
        this.socket = socket;
    }

    /// <summary>
    /// Connects to <paramref name="path"/>. Throws <see cref="OsException"/> when a syscall fails and
    /// <see cref="IoMessageException"/> for a path that does not fit in sockaddr_un (as Rust reports it).
    /// </summary>
    public static unsafe UnixApiConnection Connect(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= Libc.SockAddrUn.PathCapacity)
        {
            throw new IoMessageException("InvalidInput", "path must be shorter than SUN_LEN");
        }

        var address = new Libc.SockAddrUn { Family = Libc.AfUnix };
        bytes.CopyTo((Span<byte>)address.Path);
        var length = (uint)(sizeof(ushort) + bytes.Length + (bytes.Length == 0 ? 0 : 1));
        var fd = SafeFd.FromResult(Libc.Socket(Libc.AfUnix, Libc.SockStream | Libc.SockCloExec, 0));
        if (Libc.Connect(fd.Fd, &address, length) != 0)
        {
            var error = OsException.Last();
            fd.Dispose();
            throw error;
        }

        return new UnixApiConnection(fd);
    }

    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds) => Libc.SendAllWithFds(socket.Fd, data, fds);

    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var sent = Libc.Send(socket.Fd, start + done, (nuint)(data.Length - done), Libc.MsgNoSignal);
                if (sent < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EIntr)
                    {
                        continue;
                    }

                    throw new OsException(errno);
                }

                done += (int)sent;
            }
        }
    }

    public unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var received = Libc.Read(socket.Fd, start, (nuint)buffer.Length);
                if (received >= 0)
                {
                    return (int)received;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EIntr)
                {
                    throw new OsException(errno);
                }
            }
        }
    }

    public void Dispose() => socket.Dispose();
}
