using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Stream-socket I/O that carries file descriptors (SCM_RIGHTS).</summary>
public static partial class Libc
{
    /// <summary>SCM_MAX_FD: the kernel's limit of descriptors in one SCM_RIGHTS message.</summary>
    public const int MaxFdsPerMessage = 253;

    /// <summary>
    /// One sendmsg of <paramref name="data"/> with every descriptor in <paramref name="fds"/> attached as a
    /// single SCM_RIGHTS message (the descriptors stay open in this process). Returns the number of bytes
    /// sent, which on a stream socket may be fewer than requested (the fds go with the first byte), or -1
    /// when a non-blocking socket would block. Retries EINTR; other errors throw <see cref="OsException"/>.
    /// Never raises SIGPIPE.
    /// </summary>
    public static unsafe int SendWithFds(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxFdsPerMessage)
        {
            throw new ArgumentException($"At most {MaxFdsPerMessage} descriptors fit in one message", nameof(fds));
        }

        if (data.IsEmpty && !fds.IsEmpty)
        {
            // A zero-length stream write carries nothing, not even its control message.
            throw new ArgumentException("Descriptors must travel with at least one byte of data", nameof(data));
        }

        var controlLength = fds.IsEmpty ? 0 : CMsgSpace(fds.Length * sizeof(int));
        var control = stackalloc byte[Math.Max(controlLength, 1)];
        new Span<byte>(control, controlLength).Clear();
        if (!fds.IsEmpty)
        {
            var header = (CMsgHdr*)control;
            header->Length = (nuint)CMsgLen(fds.Length * sizeof(int));
            header->Level = SolSocket;
            header->Type = ScmRights;
            fds.CopyTo(new Span<int>(control + CMsgAlign(sizeof(CMsgHdr)), fds.Length));
        }

        fixed (byte* bytes = data)
        {
            var iov = new IoVec { Base = bytes, Length = (nuint)data.Length };
            var message = new MsgHdr
            {
                Iov = &iov,
                IovLength = 1,
                Control = controlLength == 0 ? null : control,
                ControlLength = (nuint)controlLength,
            };
            while (true)
            {
                var sent = SendMsg(socket, &message, MsgNoSignal);
                if (sent >= 0)
                {
                    return (int)sent;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                return errno == EAgain ? -1 : throw new OsException(errno);
            }
        }
    }

    /// <inheritdoc cref="SendWithFds(int, ReadOnlySpan{byte}, ReadOnlySpan{int})"/>
    public static int SendWithFds(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return SendWithFds((int)socket.DangerousGetHandle(), data, fds);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Sends all of <paramref name="data"/> on a blocking socket, the descriptors attached to the first
    /// chunk (as ch-remote does: they arrive with the request line).
    /// </summary>
    public static void SendAllWithFds(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        var done = 0;
        var attached = fds;
        while (done < data.Length)
        {
            var sent = SendWithFds(socket, data[done..], attached);
            if (sent < 0)
            {
                throw new OsException(EAgain);
            }

            done += sent;
            attached = default;
        }
    }

    /// <summary>
    /// One recvmsg into <paramref name="buffer"/>, accepting up to <c>fds.Length</c> (at most 253) descriptors,
    /// which are created close-on-exec and become owned by the caller. Returns the byte count (0 at end of
    /// stream) or -1 when a non-blocking socket has nothing to read. Descriptors the kernel delivers beyond
    /// the room in <paramref name="fds"/> are closed. Retries EINTR; other errors throw <see cref="OsException"/>.
    /// </summary>
    public static unsafe int ReceiveWithFds(int socket, Span<byte> buffer, Span<int> fds, out int fdCount)
    {
        fdCount = 0;
        var room = Math.Min(fds.Length, MaxFdsPerMessage);
        var controlLength = room == 0 ? 0 : CMsgSpace(room * sizeof(int));
        var control = stackalloc byte[Math.Max(controlLength, 1)];
        nint received;
        MsgHdr message;
        fixed (byte* bytes = buffer)
        {
            var iov = new IoVec { Base = bytes, Length = (nuint)buffer.Length };
            while (true)
            {
                message = new MsgHdr
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = controlLength == 0 ? null : control,
                    ControlLength = (nuint)controlLength,
                };
                received = RecvMsg(socket, &message, MsgCMsgCloExec);
                if (received >= 0)
                {
                    break;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                return errno == EAgain ? -1 : throw new OsException(errno);
            }
        }

        fdCount = CollectRights(control, (int)message.ControlLength, fds);
        return (int)received;
    }

    /// <inheritdoc cref="ReceiveWithFds(int, Span{byte}, Span{int}, out int)"/>
    public static int ReceiveWithFds(SafeHandle socket, Span<byte> buffer, Span<int> fds, out int fdCount)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return ReceiveWithFds((int)socket.DangerousGetHandle(), buffer, fds, out fdCount);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// <see cref="ReceiveWithFds(int, Span{byte}, Span{int}, out int)"/> appending the descriptors to a list
    /// (up to 253 per call).
    /// </summary>
    public static int ReceiveWithFds(int socket, Span<byte> buffer, List<int> fds)
    {
        Span<int> received = stackalloc int[MaxFdsPerMessage];
        var count = ReceiveWithFds(socket, buffer, received, out var fdCount);
        for (var i = 0; i < fdCount; i++)
        {
            fds.Add(received[i]);
        }

        return count;
    }

    /// <summary>Walks the control messages (CMSG_FIRSTHDR/CMSG_NXTHDR) and copies out SCM_RIGHTS payloads.</summary>
    private static unsafe int CollectRights(byte* control, int controlLength, Span<int> fds)
    {
        var count = 0;
        var headerSize = CMsgAlign(Unsafe.SizeOf<CMsgHdr>());
        var offset = 0;
        while (offset + headerSize <= controlLength)
        {
            var header = (CMsgHdr*)(control + offset);
            var length = (int)header->Length;
            if (length < headerSize || offset + length > controlLength)
            {
                break;
            }

            if (header->Level == SolSocket && header->Type == ScmRights)
            {
                var payload = (int*)(control + offset + headerSize);
                var n = (length - headerSize) / sizeof(int);
                for (var i = 0; i < n; i++)
                {
                    if (count < fds.Length)
                    {
                        fds[count++] = payload[i];
                    }
                    else
                    {
                        Close(payload[i]);
                    }
                }
            }

            offset += CMsgAlign(length);
        }

        return count;
    }
}
