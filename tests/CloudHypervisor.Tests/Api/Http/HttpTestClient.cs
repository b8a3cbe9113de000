using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>A raw HTTP/1.1 client over a Unix socket that returns responses byte-exact.</summary>
internal sealed class HttpTestClient : IDisposable
{
    private readonly List<byte> pending = [];

    public HttpTestClient(string socketPath, int receiveTimeoutMs = 10_000)
    {
        Socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = receiveTimeoutMs };
        Socket.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    public Socket Socket { get; }

    public void Send(string text) => Send(Encoding.UTF8.GetBytes(text));

    public void Send(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[Socket.Send(bytes)..];
        }
    }

    /// <summary>Sends the bytes with descriptors attached to the first byte (as ch-remote does).</summary>
    public void SendWithFds(string text, params int[] fds) =>
        Libc.SendAllWithFds((int)Socket.Handle, Encoding.UTF8.GetBytes(text), fds);

    /// <summary>Reads one response: the head through the blank line, then Content-Length bytes of body.</summary>
    public string ReadResponse()
    {
        var headEnd = IndexOfHeadEnd();
        while (headEnd < 0)
        {
            if (!Fill())
            {
                throw new EndOfStreamException($"Connection closed after {pending.Count} bytes: {Encoding.UTF8.GetString(pending.ToArray())}");
            }

            headEnd = IndexOfHeadEnd();
        }

        var head = Encoding.UTF8.GetString(pending.GetRange(0, headEnd + 4).ToArray());
        var length = 0;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length: ", StringComparison.Ordinal))
            {
                length = int.Parse(line["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var total = headEnd + 4 + length;
        while (pending.Count < total)
        {
            if (!Fill())
            {
                throw new EndOfStreamException("Connection closed inside a response body");
            }
        }

        var response = Encoding.UTF8.GetString(pending.GetRange(0, total).ToArray());
        pending.RemoveRange(0, total);
        return response;
    }

    /// <summary>Reads until the server closes; returns everything not yet consumed.</summary>
    public string ReadToEnd()
    {
        while (Fill())
        {
        }

        var rest = Encoding.UTF8.GetString(pending.ToArray());
        pending.Clear();
        return rest;
    }

    /// <summary>True when the server closed the connection (EOF or reset) within the receive timeout.</summary>
    public bool IsClosedByServer()
    {
        try
        {
            return !Fill();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public void Dispose() => Socket.Dispose();

    private bool Fill()
    {
        var buffer = new byte[64 * 1024];
        var n = Socket.Receive(buffer);
        if (n == 0)
        {
            return false;
        }

        pending.AddRange(buffer.AsSpan(0, n));
        return true;
    }

    private int IndexOfHeadEnd()
    {
        for (var i = 0; i + 3 < pending.Count; i++)
        {
            if (pending[i] == '\r' && pending[i + 1] == '\n' && pending[i + 2] == '\r' && pending[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
