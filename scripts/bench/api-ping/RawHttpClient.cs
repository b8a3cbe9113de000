using System.Net.Sockets;
using System.Text;

namespace ApiPingBench;

/// <summary>Minimal keep-alive HTTP/1.1 client over a Unix socket with preallocated buffers.</summary>
internal sealed class RawHttpClient : IDisposable
{
    private readonly Socket socket;
    private readonly byte[] buffer = new byte[64 * 1024];

    public RawHttpClient(string socketPath)
    {
        socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 30_000 };
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    public static byte[] Get(string path) => Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");

    /// <summary>Sends one request and reads its whole response; returns the status code.</summary>
    public int RoundTrip(byte[] request)
    {
        socket.Send(request);
        var filled = 0;
        var headEnd = -1;
        var total = int.MaxValue;
        while (filled < total)
        {
            var n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException("The server closed the connection");
            }

            filled += n;
            if (headEnd < 0)
            {
                headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (headEnd >= 0)
                {
                    total = headEnd + 4 + ContentLength(buffer.AsSpan(0, headEnd));
                }
            }
        }

        // "HTTP/1.1 200 ..." : the status is always the three digits at offset 9.
        return ((buffer[9] - '0') * 100) + ((buffer[10] - '0') * 10) + (buffer[11] - '0');
    }

    public void Dispose() => socket.Dispose();

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("Content-Length: "u8);
        if (at < 0)
        {
            return 0;
        }

        var value = 0;
        for (var i = at + 16; i < head.Length && head[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            value = (value * 10) + (head[i] - '0');
        }

        return value;
    }
}
