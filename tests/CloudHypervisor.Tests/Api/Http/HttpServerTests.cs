using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Api.Http;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>The server over a real Unix socket: keep-alive, pipelining, limits, descriptors, misbehaving clients.</summary>
public class HttpServerTests
{
    private const string NotFound =
        "HTTP/1.1 404 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n[\"Not Found\"]";

    [Fact]
    public void ConnectionStaysOpenAcrossRequests()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        for (var i = 0; i < 5; i++)
        {
            client.Send(HttpServerFixture.PingRequest);
            Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        }

        Assert.Equal(5, fixture.Handler.Count);
    }

    [Fact]
    public void AbsoluteFormTargetsAndUnknownPathsReachTheHandler()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send("GET http://localhost/api/v1/vmm.ping HTTP/1.1\r\n\r\n");
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        client.Send("GET /api/v1/vmm.ping/ HTTP/1.0\r\n\r\n");
        Assert.Equal(NotFound, client.ReadResponse());
    }

    [Fact]
    public void PipelinedRequestsAreHandledAndAnsweredInOrder()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send(
            "GET /api/v1/nope HTTP/1.1\r\n\r\n"
            + HttpServerFixture.PingRequest
            + "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
            + HttpServerFixture.PingRequest);
        Assert.Equal(NotFound, client.ReadResponse());
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        Assert.Equal(NotFound, client.ReadResponse());
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        Assert.Equal(
            ["GET /api/v1/nope -", "GET /api/v1/vmm.ping -", "PUT /api/v1/vm.create {}", "GET /api/v1/vmm.ping -"],
            fixture.Handler.Seen);
    }

    [Fact]
    public void EleventhConnectionIsToldTheServerIsFullAndClosed()
    {
        using var fixture = new HttpServerFixture();
        var clients = new List<HttpTestClient>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                clients.Add(fixture.Connect());
            }

            fixture.WaitForConnections(10);
            using (var rejected = fixture.Connect())
            {
                Assert.Equal(
                    "HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: 40\r\n\r\n{ \"error\": \"Too many open connections\" }",
                    rejected.ReadToEnd());
            }

            foreach (var client in clients)
            {
                client.Send(HttpServerFixture.PingRequest);
                Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
            }

            clients[0].Dispose();
            clients.RemoveAt(0);
            fixture.WaitForConnections(9);
            using var replacement = fixture.Connect();
            replacement.Send(HttpServerFixture.PingRequest);
            Assert.Equal(HttpServerFixture.PingResponse, replacement.ReadResponse());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void DescriptorsSentWithTheRequestAreAttachedToIt()
    {
        var counters = new List<ulong>();
        using var fixture = new HttpServerFixture(respond: request =>
        {
            foreach (var file in request.TakeFiles())
            {
                using (file)
                {
                    counters.Add(ReadCounter(file));
                }
            }

            return HttpResponse.NoContent();
        });
        using var first = new EventFd();
        using var second = new EventFd();
        first.Write(11);
        second.Write(22);
        using var client = fixture.Connect();

        // ch-remote style: the descriptors travel with the request line, the body follows in a later write.
        client.SendWithFds("PUT /api/v1/vm.add-net HTTP/1.1\r\nContent-Length: 4\r\n\r\n", first.Fd, second.Fd);
        Thread.Sleep(20);
        client.Send("{}{}");
        Assert.StartsWith("HTTP/1.1 204 \r\n", client.ReadResponse());
        Assert.Equal([11UL, 22UL], counters);

        // A request after that one carries no descriptors of its own.
        client.Send("PUT /api/v1/vm.add-net HTTP/1.1\r\n\r\n");
        client.ReadResponse();
        Assert.Equal(2, counters.Count);
    }

    [Fact]
    public void DescriptorsArrivingWithTheLastChunkBelongToThatRequest()
    {
        var fdCounts = new List<int>();
        using var fixture = new HttpServerFixture(respond: request =>
        {
            fdCounts.Add(request.FileCount);
            return HttpResponse.NoContent();
        });
        using var eventFd = new EventFd();
        using var client = fixture.Connect();
        client.Send("PUT /api/v1/vm.restore HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
        Thread.Sleep(20);
        client.SendWithFds("{}", eventFd.Fd);
        client.ReadResponse();
        Assert.Equal([1], fdCounts);
    }

    [Fact]
    public void StaleSocketFileIsReplaced()
    {
        var directory = Directory.CreateTempSubdirectory("ch-http-stale-");
        try
        {
            var path = Path.Combine(directory.FullName, "api.sock");
            BoundSocket(path, listen: false).Dispose(); // A crashed VMM leaves exactly this behind.

            Assert.True(File.Exists(path));
            AssertServesPing(ApiSocket.Listen(path), path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void LockHeldByARunningServerRefusesASecondOneWithoutTouchingItsSocket()
    {
        using var fixture = new HttpServerFixture();
        var error = Assert.Throws<SocketPathInUseException>(() => ApiSocket.Listen(fixture.SocketPath));
        Assert.Equal($"API socket \"{fixture.SocketPath}\" is already in use by another running instance", error.Message);
        Assert.True(File.Exists(fixture.SocketPath + ".lock"));

        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
    }

    [Fact]
    public void LockIsReleasedWhenTheServerIsDisposed()
    {
        string path;
        using (var fixture = new HttpServerFixture())
        {
            path = fixture.SocketPath;
            fixture.Server.Dispose();
            using var second = ApiSocket.Listen(path);
            Assert.Equal(path, second.Path);
        }
    }

    [Fact]
    public void SocketPathInAMissingDirectoryFailsWithTheOsError()
    {
        var error = Assert.Throws<ApiSocketException>(() => ApiSocket.Listen("/nonexistent-dir/api.sock"));
        Assert.Equal(["Error creation API server's socket", "No such file or directory (os error 2)"], error.Chain());
    }

    [Fact]
    public void InheritedListeningDescriptorIsServed()
    {
        var directory = Directory.CreateTempSubdirectory("ch-http-fd-");
        try
        {
            var path = Path.Combine(directory.FullName, "inherited.sock");
            var socket = BoundSocket(path, listen: true);
            var fd = socket.Fd;
            socket.SetHandleAsInvalid(); // Ownership moves to the server, as with --api-socket fd=.
            AssertServesPing(ApiSocket.Adopt(fd), path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void InheritedDescriptorThatIsNotASocketIsRefused()
    {
        using var eventFd = new EventFd();
        var fd = Libc.Dup(eventFd.Fd);
        var error = Assert.Throws<ApiSocketException>(() => ApiSocket.Adopt(fd));
        Libc.Close(fd);
        Assert.Equal($"Error creating API server: IO error: {OsException.Describe(Libc.ENotSock)}", error.Message);
        Assert.Single(error.Chain());
    }

    [Fact]
    public void SlowClientDoesNotBlockOthers()
    {
        using var fixture = new HttpServerFixture();
        using var slow = fixture.Connect();
        slow.Send("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Le");
        using var fast = fixture.Connect();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            fast.Send(HttpServerFixture.PingRequest);
            Assert.Equal(HttpServerFixture.PingResponse, fast.ReadResponse());
        }

        Assert.True(watch.ElapsedMilliseconds < 5000, $"took {watch.ElapsedMilliseconds} ms");
        slow.Send("ngth: 2\r\n\r\n{}");
        Assert.Equal(NotFound, slow.ReadResponse());
    }

    [Fact]
    public void ClientThatVanishesAfterSendingIsStillServedAndDoesNotDisturbOthers()
    {
        using var fixture = new HttpServerFixture();
        for (var i = 0; i < 50; i++)
        {
            using var gone = fixture.Connect();
            gone.Send(HttpServerFixture.PingRequest + HttpServerFixture.PingRequest);
        }

        using (var midBody = fixture.Connect())
        {
            midBody.Send("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"cpus\":");
        }

        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        fixture.WaitForConnections(1);
        Assert.DoesNotContain(fixture.Handler.Seen, s => s.StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public void HalfClosedClientStillReceivesItsResponse()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadToEnd());
    }

    [Theory]
    [InlineData("POST /api/v1/vmm.ping HTTP/1.1\r\n\r\n", "Invalid HTTP Method: Unsupported HTTP method.")]
    [InlineData("GET /api/v1/vmm.ping HTTP/2\r\n\r\n", "Invalid HTTP Version: Unsupported HTTP version.")]
    [InlineData("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "Invalid header. Reason: Invalid value. Key:Content-Length; Value: abc")]
    public void ParseErrorIsAnsweredByTheEngineThenTheConnectionCloses(string request, string reason)
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send(request + HttpServerFixture.PingRequest);
        var body = $"{{ \"error\": \"{reason}\nAll previous unanswered requests will be dropped.\" }}";
        Assert.Equal(
            "HTTP/1.1 400 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}",
            client.ReadToEnd());
        Assert.Equal(0, fixture.Handler.Count);
    }

    [Fact]
    public void ValidRequestsInTheSameReadAsAParseErrorAreDropped()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest + "BREW /coffee HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400 \r\nServer: Firecracker API\r\n", client.ReadToEnd());
        Assert.Equal(0, fixture.Handler.Count);
    }

    [Fact]
    public void ExpectContinueGetsAnInterimResponseBeforeTheBody()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send("PUT /api/v1/vm.create HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        Assert.Equal("HTTP/1.1 100 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n", client.ReadResponse());
        client.Send("{}");
        Assert.Equal(NotFound, client.ReadResponse());
        Assert.Equal(["PUT /api/v1/vm.create {}"], fixture.Handler.Seen);
    }

    [Fact]
    public void LargestAllowedBodyArrivesWhole()
    {
        using var fixture = new HttpServerFixture(respond: r => HttpResponse.Ok(Encoding.ASCII.GetBytes(r.Body!.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        using var client = fixture.Connect();
        var body = new byte[HttpRequestParser.MaxPayloadSize];
        Random.Shared.NextBytes(body);
        client.Send($"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: {body.Length}\r\n\r\n");
        client.Send(body);
        Assert.EndsWith("\r\n\r\n4194304", client.ReadResponse());
    }

    [Fact]
    public void HandlerFailureBecomesAnInternalServerError()
    {
        using var fixture = new HttpServerFixture(respond: _ => throw new InvalidOperationException("boom"));
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        Assert.EndsWith("Content-Length: 25\r\n\r\n[\"Internal Server Error\"]", client.ReadResponse());
        client.Send(HttpServerFixture.PingRequest);
        Assert.StartsWith("HTTP/1.1 500 \r\n", client.ReadResponse());
    }

    [Fact]
    public void ResponseAskingToCloseEndsTheConnection()
    {
        using var fixture = new HttpServerFixture(respond: _ => new HttpResponse(200) { CloseConnection = true });
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest + HttpServerFixture.PingRequest);
        Assert.Equal(
            "HTTP/1.1 200 \r\nServer: Cloud Hypervisor API\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
            client.ReadToEnd());
        Assert.Equal(1, fixture.Handler.Count);
    }

    [Fact]
    public void StalledPartialRequestIsClosedButAnIdleConnectionIsKept()
    {
        using var fixture = new HttpServerFixture(new HttpServerOptions { StalledConnectionTimeout = TimeSpan.FromMilliseconds(300) });
        using var idle = fixture.Connect();
        using var stalled = fixture.Connect();
        stalled.Send("GET /api/v1/vmm.ping HTTP/1.1\r\n");
        var watch = Stopwatch.StartNew();
        Assert.True(stalled.IsClosedByServer());
        Assert.InRange(watch.ElapsedMilliseconds, 200, 5000);

        Thread.Sleep(400);
        idle.Send(HttpServerFixture.PingRequest);
        Assert.Equal(HttpServerFixture.PingResponse, idle.ReadResponse());
        Assert.Equal(1, fixture.Handler.Count);
    }

    [Fact]
    public void StopClosesConnectionsAndTheThreadEnds()
    {
        using var fixture = new HttpServerFixture();
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        client.ReadResponse();
        fixture.Server.Stop();
        Assert.False(fixture.Server.IsRunning);
        Assert.True(client.IsClosedByServer());
        fixture.Server.Stop();
    }

    [Fact]
    public void HandlerRunsOnTheNamedServerThread()
    {
        string? name = null;
        using var fixture = new HttpServerFixture(respond: _ =>
        {
            name = Thread.CurrentThread.Name;
            return HttpResponse.NoContent();
        });
        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        client.ReadResponse();
        Assert.Equal("http-server", name);
    }

    /// <summary>A socket bound with raw syscalls (.NET's Socket unlinks its path when disposed).</summary>
    /// <summary>A server on <paramref name="listener"/> answers a ping sent to <paramref name="path"/>.</summary>
    private static void AssertServesPing(UnixSocketListener listener, string path)
    {
        using var server = new HttpServer(listener, new HttpServerFixture.RecordingHandler(null));
        server.Start();
        using var client = new HttpTestClient(path);
        client.Send(HttpServerFixture.PingRequest);
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
    }

    private static unsafe SafeFd BoundSocket(string path, bool listen)
    {
        var socket = SafeFd.FromResult(Libc.Socket(Libc.AfUnix, Libc.SockStream | Libc.SockCloExec, 0));
        var address = Libc.SockAddrUn.ForPath(path, out var length);
        Assert.Equal(0, Libc.Bind(socket.Fd, &address, length));
        if (listen)
        {
            Assert.Equal(0, Libc.Listen(socket.Fd, 8));
        }

        return socket;
    }

    private static unsafe ulong ReadCounter(SafeFd file)
    {
        ulong value = 0;
        Assert.Equal(8, (int)Libc.Read(file.Fd, (byte*)&value, 8));
        return value;
    }
}
