using System.Buffers.Text;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>What reading a host client's "CONNECT &lt;port&gt;\n" line has come to.</summary>
internal enum ConnectCommandStatus
{
    /// <summary>The line is not complete yet.</summary>
    Incomplete,

    /// <summary>Not a valid request (upstream's InvalidPortRequest): the client is disconnected.</summary>
    Invalid,

    /// <summary>A valid request for <see cref="HostConnectRequest.Port"/>.</summary>
    Complete,
}

/// <summary>
/// A host client accepted on the device's Unix socket that has yet to say which guest port it wants,
/// as upstream reads it: "connect " or "CONNECT ", the port (u32, surrounding whitespace allowed) and a
/// newline, at most 31 bytes in all. Bytes after the newline stay in the socket: they are the client's
/// first data for the guest.
/// </summary>
internal sealed class HostConnectRequest(SafeFd stream) : IDisposable
{
    public const int BufferSize = 32;

    private readonly byte[] line = new byte[BufferSize];
    private int length;

    public SafeFd Stream { get; } = stream;

    public uint Port { get; private set; }

    /// <summary>Reads what has arrived, never past the newline.</summary>
    public unsafe ConnectCommandStatus Read()
    {
        while (true)
        {
            nint peeked;
            fixed (byte* free = &line[length])
            {
                peeked = Libc.Recv(Stream.Fd, free, (nuint)(BufferSize - length), Libc.MsgPeek | Libc.MsgDontWait);
            }

            if (peeked < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EIntr)
                {
                    continue;
                }

                return errno == Libc.EAgain ? ConnectCommandStatus.Incomplete : ConnectCommandStatus.Invalid;
            }

            if (peeked == 0)
            {
                return ConnectCommandStatus.Invalid;
            }

            var newline = line.AsSpan(length, (int)peeked).IndexOf((byte)'\n');
            var take = newline >= 0 ? newline + 1 : (int)peeked;
            fixed (byte* free = &line[length])
            {
                if (Libc.Recv(Stream.Fd, free, (nuint)take, Libc.MsgDontWait) != take)
                {
                    return ConnectCommandStatus.Invalid;
                }
            }

            length += take;
            var status = Parse(line.AsSpan(0, length), out var port);
            if (status != ConnectCommandStatus.Incomplete)
            {
                Port = port;
                return status;
            }
        }
    }

    /// <summary>Upstream's rules, applied to the bytes read so far.</summary>
    public static ConnectCommandStatus Parse(ReadOnlySpan<byte> command, out uint port)
    {
        port = 0;
        var newline = command.IndexOf((byte)'\n');
        if (command.Length < 8)
        {
            return newline >= 0 ? ConnectCommandStatus.Invalid : ConnectCommandStatus.Incomplete;
        }

        if (!command.StartsWith("connect "u8) && !command.StartsWith("CONNECT "u8))
        {
            return ConnectCommandStatus.Invalid;
        }

        if (command.Length == BufferSize)
        {
            return ConnectCommandStatus.Invalid;
        }

        if (newline < 0)
        {
            return ConnectCommandStatus.Incomplete;
        }

        var digits = command[8..newline].Trim(" \t\r\v\f"u8);
        if (!digits.IsEmpty && digits[0] == (byte)'+')
        {
            digits = digits[1..];
        }

        return !digits.IsEmpty && digits[0] is >= (byte)'0' and <= (byte)'9'
            && Utf8Parser.TryParse(digits, out port, out var consumed) && consumed == digits.Length
            ? ConnectCommandStatus.Complete
            : ConnectCommandStatus.Invalid;
    }

    public void Dispose() => Stream.Dispose();
}
