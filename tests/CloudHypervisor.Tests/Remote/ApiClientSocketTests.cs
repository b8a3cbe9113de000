using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Api.Client;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Remote;

/// <summary>The client over a real Unix socket: the first chunk carries the descriptors, answers are parsed.</summary>
public sealed class ApiClientSocketTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("api-client-test-").FullName;

    private string SocketPath => Path.Combine(directory, "api.sock");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Accepts one connection, reads one request with recvmsg and answers <paramref name="response"/>.</summary>
    private Task<(string Request, List<int> FirstChunkFds)> Serve(Socket listener, string response) => Task.Run(() =>
    {
        using var connection = listener.Accept();
        connection.Blocking = true;
        var buffer = new byte[4096];
        var fds = new List<int>();
        var count = Libc.ReceiveWithFds((int)connection.Handle, buffer, fds);
        var request = new StringBuilder(Encoding.UTF8.GetString(buffer, 0, count));
        while (!IsComplete(request.ToString()))
        {
            count = connection.Receive(buffer);
            request.Append(Encoding.UTF8.GetString(buffer, 0, count));
        }

        connection.Send(Encoding.UTF8.GetBytes(response));
        return (request.ToString(), fds);
    });

    private static bool IsComplete(string request)
    {
        var end = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var length = request.IndexOf("Content-Length: ", StringComparison.Ordinal);
        return end >= 0 && (length < 0 || request.Length - end - 4 >= int.Parse(request[(length + 16)..request.IndexOf('\r', length)]));
    }

    private Socket Listen()
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen(1);
        return listener;
    }

    [Fact]
    public async Task SendsDescriptorsWithTheRequestLineAndReadsTheBody()
    {
        using var listener = Listen();
        var server = Serve(listener, "HTTP/1.1 200 \r\nServer: Cloud Hypervisor API\r\nContent-Length: 2\r\n\r\n{}");
        var fd = Libc.Open("/dev/null", Libc.ORdOnly | Libc.OCloExec, 0);
        try
        {
            using var client = ApiClient.Connect(SocketPath);
            var response = client.Send("PUT", "vm.add-net", "hello", [fd]);
            Assert.Equal((200UL, ApiStatusCode.Ok, "{}"), (response.StatusCode, response.Status, response.BodyText));
            var (request, fds) = await server;
            Assert.Equal("PUT /api/v1/vm.add-net HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nContent-Length: 5\r\n\r\nhello", request);
            var received = Assert.Single(fds);
            Assert.Equal("/dev/null", File.ResolveLinkTarget($"/proc/self/fd/{received}", false)!.FullName);
            Libc.Close(received);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public async Task ErrorStatusesThrowWithTheServerChain()
    {
        using var listener = Listen();
        const string body = """["Error from API","The VM info is not available","VM is not created"]""";
        var server = Serve(listener, $"HTTP/1.1 404 \r\nContent-Length: {body.Length}\r\n\r\n{body}");
        using var client = ApiClient.Connect(SocketPath);
        var error = Assert.Throws<ApiServerException>(() => client.Info());
        Assert.Equal((404UL, ApiStatusCode.NotFound, body), (error.StatusCode, error.Status, error.Body));
        Assert.Equal(["Error from API", "The VM info is not available", "VM is not created"], error.ServerChain);
        Assert.Equal("GET /api/v1/vm.info HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", (await server).Request);
    }

    [Fact]
    public void ConnectingToAMissingSocketFailsWithTheErrno()
    {
        var error = Assert.Throws<OsException>(() => ApiClient.Connect(SocketPath));
        Assert.Equal(2, error.Errno);
        Assert.Equal("path must be shorter than SUN_LEN", Assert.Throws<IoMessageException>(() => ApiClient.Connect("/" + new string('x', 120))).Message);
    }
}
