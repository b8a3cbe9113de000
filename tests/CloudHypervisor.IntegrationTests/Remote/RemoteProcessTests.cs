using System.Text;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.IntegrationTests.Remote;

/// <summary>The published ch-remote binary against a fake API server: request bytes, descriptors, output and exit codes.</summary>
public class RemoteProcessTests
{
    private const string Head = "Host: localhost\r\nAccept: */*\r\n";
    private const string ErrorHeader = "Error: ch-remote exited with the following chain of errors:\n";
    private const string Ping = """{"build_version":"v54.0.0","version":"54.0.0","pid":4242,"features":["io_uring","kvm"]}""";
    private const string NoContent = "HTTP/1.1 204 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\n\r\n";

    private static string Json(int status, string body) =>
        $"HTTP/1.1 {status} \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    private static async Task<(RemoteResult Result, RecordedRequest? Request)> RunAgainst(string response, params string[] argv)
    {
        await using var server = FakeApiServer.Start(response);
        var result = await RemoteBinary.RunAsync(["--api-socket", server.SocketPath, .. argv]);
        return (result, await server.RequestAsync());
    }

    [Fact]
    public async Task VersionFlag()
    {
        var result = await RemoteBinary.RunAsync(["-V"]);
        Assert.Equal(new RemoteResult(0, "ch-remote v54.0.0\n", string.Empty), result);
    }

    [Fact]
    public async Task NoArgumentsPrintsHelpOnStderrWithExitCode2()
    {
        var result = await RemoteBinary.RunAsync([]);
        Assert.Equal((2, string.Empty), (result.ExitCode, result.Stdout));
        Assert.StartsWith("Remotely control a cloud-hypervisor VMM.\n\nUsage: ch-remote [OPTIONS] <COMMAND>\n\nCommands:\n  add-device              Add VFIO device\n", result.Stderr);
        Assert.EndsWith("\nOptions:\n      --api-socket <api-socket>  HTTP API socket path (UNIX domain socket).\n  -h, --help                     Print help\n  -V, --version                  Print version\n", result.Stderr);
    }

    [Fact]
    public async Task UsageErrorExitsWith2()
    {
        var result = await RemoteBinary.RunAsync(["--api-socket", "/nonexistent", "bogus"]);
        Assert.Equal(
            new RemoteResult(2, string.Empty, "error: unrecognized subcommand 'bogus'\n\nUsage: ch-remote [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n"),
            result);
    }

    [Fact]
    public async Task NoApiSocketIsLoggedWithExitCode1()
    {
        var result = await RemoteBinary.RunAsync(["ping"]);
        Assert.Equal((1, string.Empty), (result.ExitCode, result.Stdout));
        Assert.Equal("[<time> ERROR ch_remote] Please either provide the api-socket option or dbus-service-name and dbus-object-path options\n", result.StderrWithoutTimes);
    }

    [Fact]
    public async Task ConnectFailures()
    {
        var missing = await RemoteBinary.RunAsync(["--api-socket", "/nonexistent/api.sock", "ping"]);
        Assert.Equal((1, string.Empty), (missing.ExitCode, missing.Stdout));
        Assert.Equal("[<time> ERROR ch_remote] Error opening HTTP socket: No such file or directory (os error 2)\n", missing.StderrWithoutTimes);

        var notASocket = Path.GetTempFileName();
        try
        {
            var refused = await RemoteBinary.RunAsync(["--api-socket", notASocket, "ping"]);
            Assert.Equal("[<time> ERROR ch_remote] Error opening HTTP socket: Connection refused (os error 111)\n", refused.StderrWithoutTimes);
        }
        finally
        {
            File.Delete(notASocket);
        }
    }

    [Fact]
    public async Task PingPrintsTheBody()
    {
        var (result, request) = await RunAgainst(Json(200, Ping), "ping");
        Assert.Equal(new RemoteResult(0, Ping + "\n", string.Empty), result);
        Assert.Equal("GET /api/v1/vmm.ping HTTP/1.1\r\n" + Head + "\r\n", request!.Text);
        Assert.Empty(request.Fds);
    }

    [Fact]
    public async Task NoContentPrintsNothing()
    {
        var (result, request) = await RunAgainst(NoContent, "pause");
        Assert.Equal(new RemoteResult(0, string.Empty, string.Empty), result);
        Assert.Equal("PUT /api/v1/vm.pause HTTP/1.1\r\n" + Head + "\r\n", request!.Text);
    }

    [Fact]
    public async Task OkWithContentLengthZeroPrintsAnEmptyLine()
    {
        var (result, request) = await RunAgainst(Json(200, string.Empty), "shutdown-vmm");
        Assert.Equal(new RemoteResult(0, "\n", string.Empty), result);
        Assert.Equal("PUT /api/v1/vmm.shutdown HTTP/1.1\r\n" + Head + "\r\n", request!.Text);
    }

    [Fact]
    public async Task AddDiskSendsTheSerializedConfig()
    {
        const string body = """{"pci_segment":0,"path":"/a.img","readonly":false,"direct":false,"num_queues":1,"queue_size":128,"vhost_user":false,"disable_io_uring":false,"disable_aio":false,"backing_files":false,"sparse":true,"image_type":"Unknown","lock_granularity":"ByteRange"}""";
        const string answer = """{"id":"_disk0","bdf":"0000:00:05.0"}""";
        var (result, request) = await RunAgainst(Json(200, answer), "add-disk", "path=/a.img");
        Assert.Equal(new RemoteResult(0, answer + "\n", string.Empty), result);
        Assert.Equal($"PUT /api/v1/vm.add-disk HTTP/1.1\r\n{Head}Content-Length: {body.Length}\r\n\r\n{body}", request!.Text);
    }

    [Fact]
    public async Task CreateSendsStandardInputVerbatim()
    {
        const string config = "{\n  \"payload\": {\"kernel\": \"/k\"}\n}\n";
        await using var server = FakeApiServer.Start(NoContent);
        var result = await RemoteBinary.RunAsync(["--api-socket", server.SocketPath, "create"], Encoding.UTF8.GetBytes(config));
        Assert.Equal(new RemoteResult(0, string.Empty, string.Empty), result);
        Assert.Equal($"PUT /api/v1/vm.create HTTP/1.1\r\n{Head}Content-Length: {config.Length}\r\n\r\n{config}", (await server.RequestAsync())!.Text);
    }

    public static TheoryData<int, string> ErrorStatuses => new()
    {
        { 400, "BadRequest" },
        { 404, "NotFound" },
        { 405, "Unknown" },
        { 409, "Unknown" },
        { 429, "TooManyRequests" },
        { 500, "InternalServerError" },
        { 501, "NotImplemented" },
    };

    [Theory]
    [MemberData(nameof(ErrorStatuses))]
    public async Task ErrorStatusesPrintTheServerChain(int status, string name)
    {
        const string body = """["Error from API","The VM could not boot","VM is \"not\" created"]""";
        var (result, _) = await RunAgainst(Json(status, body), "boot");
        Assert.Equal((1, string.Empty), (result.ExitCode, result.Stdout));
        Assert.Equal(
            $"[<time> ERROR ch_remote] Fatal error: HttpApiClient(ServerResponse({name}, Some(\"[\\\"Error from API\\\",\\\"The VM could not boot\\\",\\\"VM is \\\\\\\"not\\\\\\\" created\\\"]\")))\n" +
            ErrorHeader + $"  0: http client error\n  1: Server responded with {name}\n  2: Error from API\n  3: The VM could not boot\n  4: VM is \"not\" created\n",
            result.StderrWithoutTimes);
    }

    [Fact]
    public async Task NonJsonErrorBodyGetsAnXLine()
    {
        const string body = "{ \"error\": \"Too many open connections\" }";
        var (result, _) = await RunAgainst($"HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: 40\r\n\r\n{body}", "info");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "[<time> ERROR ch_remote] Fatal error: HttpApiClient(ServerResponse(Unknown, Some(\"{ \\\"error\\\": \\\"Too many open connections\\\" }\")))\n" +
            ErrorHeader + "  0: http client error\n" +
            $"  X: Can't get remote's error messages from JSON response: invalid type: map, expected a sequence at line 1 column 0: body='{body}'\n",
            result.StderrWithoutTimes);
    }

    [Fact]
    public async Task RustLogOffDropsTheLogRecord()
    {
        await using var server = FakeApiServer.Start(Json(500, """["Error from API","Error triggering NMI","VM is not running"]"""));
        var result = await RemoteBinary.RunAsync(["--api-socket", server.SocketPath, "nmi"], environment: new Dictionary<string, string> { ["RUST_LOG"] = "off" });
        Assert.Equal(
            new RemoteResult(1, string.Empty, ErrorHeader + "  0: http client error\n  1: Server responded with InternalServerError\n  2: Error from API\n  3: Error triggering NMI\n  4: VM is not running\n"),
            result);
    }

    [Fact]
    public async Task ArgumentErrorExitsWith1()
    {
        var (result, request) = await RunAgainst(NoContent, "resize", "--memory", "1Q");
        Assert.Null(request);
        Assert.Equal(
            "[<time> ERROR ch_remote] Fatal error: InvalidMemorySize(InvalidValue(\"1Q\"))\n" + ErrorHeader + "  0: Error parsing memory size\n  1: Invalid value: 1Q\n",
            result.StderrWithoutTimes);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task MissingArgumentExitsWith101()
    {
        var (result, request) = await RunAgainst(NoContent, "add-disk");
        Assert.Null(request);
        Assert.Equal(101, result.ExitCode);
        Assert.Contains("panicked", result.Stderr);
    }

    [Fact]
    public async Task AddNetPassesTheTapDescriptorsWithTheRequestLine()
    {
        var first = Path.GetTempFileName();
        var second = Path.GetTempFileName();
        // Opened without O_CLOEXEC so that ch-remote inherits them under the same numbers.
        var fdA = Libc.Open(first, Libc.ORdOnly, 0);
        var fdB = Libc.Open(second, Libc.ORdOnly, 0);
        RecordedRequest? request = null;
        try
        {
            Assert.True(fdA >= 0 && fdB >= 0);
            RemoteResult result;
            (result, request) = await RunAgainst(NoContent, "add-net", $"fd=[{fdA},{fdB}],mac=12:34:56:78:9a:bc");
            Assert.Equal(new RemoteResult(0, string.Empty, string.Empty), result);
            const string body = """{"pci_segment":0,"mac":"12:34:56:78:9a:bc","num_queues":2,"queue_size":256,"vhost_user":false,"vhost_mode":"Client","offload_tso":true,"offload_ufo":true,"offload_csum":true}""";
            Assert.Equal($"PUT /api/v1/vm.add-net HTTP/1.1\r\n{Head}Content-Length: {body.Length}\r\n\r\n{body}", request!.Text);
            Assert.Equal([0, 0], request.Fds.Select(f => f.Chunk));
            Assert.Equal([first, second], request.Fds.Select(f => File.ResolveLinkTarget($"/proc/self/fd/{f.Fd}", false)!.FullName));
        }
        finally
        {
            foreach (var (_, fd) in request?.Fds ?? [])
            {
                Libc.Close(fd);
            }

            Libc.Close(fdA);
            Libc.Close(fdB);
            File.Delete(first);
            File.Delete(second);
        }
    }

    [Fact]
    public async Task ABadDescriptorFailsTheSendmsg()
    {
        var (result, _) = await RunAgainst(NoContent, "add-device", "fd=987,id=vfio0");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "[<time> ERROR ch_remote] Fatal error: HttpApiClient(SocketSendFds(Error(9)))\n" +
            ErrorHeader + "  0: http client error\n  1: Error sending file descriptors\n  2: Bad file descriptor (os error 9)\n",
            result.StderrWithoutTimes);
    }
}
