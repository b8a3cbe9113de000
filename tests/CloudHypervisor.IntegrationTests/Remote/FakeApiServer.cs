using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.IntegrationTests.Remote;

/// <summary>One request as the server received it: the exact bytes, and the descriptors with the chunk that carried them.</summary>
internal sealed record RecordedRequest(byte[] Bytes, List<(int Chunk, int Fd)> Fds)
{
    public string Text => Encoding.UTF8.GetString(Bytes);
}

/// <summary>
/// A stand-in API server on a Unix socket: accepts one connection, records the request (bytes and
/// SCM_RIGHTS descriptors, read with recvmsg), answers with canned bytes and keeps the connection
/// open until the client closes it, like upstream's keep-alive server.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly string directory;
    private readonly Socket listener;
    private readonly Task<RecordedRequest?> serving;

    private FakeApiServer(string response)
    {
        directory = Directory.CreateTempSubdirectory("ch-remote-test-").FullName;
        SocketPath = System.IO.Path.Combine(directory, "api.sock");
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen(1);
        serving = Task.Run(() => Serve(Encoding.UTF8.GetBytes(response)));
    }

    public string SocketPath { get; }

    public static FakeApiServer Start(string response) => new(response);

    /// <summary>The request, or null when the client connected and closed without sending one.</summary>
    public async Task<RecordedRequest?> RequestAsync() => await serving.WaitAsync(TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        listener.Dispose();
        try
        {
            await serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Already reported by RequestAsync when a test looked at it.
        }

        Directory.Delete(directory, recursive: true);
    }

    private RecordedRequest? Serve(byte[] response)
    {
        using var connection = listener.Accept();
        connection.Blocking = true;
        var fd = (int)connection.Handle;
        var received = new List<byte>();
        var fds = new List<(int Chunk, int Fd)>();
        var buffer = new byte[4096];
        for (var chunk = 0; !IsComplete(received); chunk++)
        {
            var chunkFds = new List<int>();
            var count = Libc.ReceiveWithFds(fd, buffer, chunkFds);
            fds.AddRange(chunkFds.Select(f => (chunk, f)));
            if (count <= 0)
            {
                return received.Count == 0 && fds.Count == 0 ? null : new RecordedRequest([.. received], fds);
            }

            received.AddRange(buffer.AsSpan(0, count));
        }

        connection.Send(response);
        while (connection.Receive(buffer) > 0)
        {
            // Keep-alive: wait for the client to hang up.
        }

        return new RecordedRequest([.. received], fds);
    }

    private static bool IsComplete(List<byte> received)
    {
        var text = Encoding.UTF8.GetString([.. received]);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        const string header = "Content-Length: ";
        var at = text.IndexOf(header, StringComparison.Ordinal);
        if (at < 0 || at > end)
        {
            return true;
        }

        var length = int.Parse(text[(at + header.Length)..text.IndexOf('\r', at)]);
        return Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= length;
    }
}
