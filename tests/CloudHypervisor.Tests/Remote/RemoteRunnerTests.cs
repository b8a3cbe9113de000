namespace CloudHypervisor.Tests.Remote;

public class RemoteRunnerTests
{
    private const string Ok204 = "HTTP/1.1 204 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\n\r\n";
    private const string Ping = """{"build_version":"v54.0.0","version":"54.0.0","pid":12345,"features":["io_uring","kvm"]}""";
    private const string ErrorHeader = "Error: ch-remote exited with the following chain of errors:\n";
    private const string LogPrefix = "[2026-11-21T10:00:00Z ERROR ch_remote] ";

    private static string Json(int status, string body) =>
        $"HTTP/1.1 {status} \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: {System.Text.Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    private static (FakeRemoteHost Host, FakeConnection Server) Setup(string response)
    {
        var server = new FakeConnection(response);
        return (new FakeRemoteHost { Server = server }, server);
    }

    [Fact]
    public void PingPrintsTheBodyAndANewline()
    {
        var (host, server) = Setup(Json(200, Ping));
        Assert.Equal(0, host.Run("--api-socket", "/run/ch.sock", "ping"));
        Assert.Equal("/run/ch.sock", host.ConnectedPath);
        Assert.Equal("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", server.Request);
        Assert.Equal(Ping + "\n", host.Stdout);
        Assert.Equal(string.Empty, host.Stderr);
        Assert.True(server.Disposed);
    }

    [Fact]
    public void LongBodiesAreReadInFull()
    {
        var info = "{\"config\":\"" + new string('x', 3000) + "\"}";
        var (host, _) = Setup(Json(200, info));
        Assert.Equal(0, host.Run("--api-socket", "s", "info"));
        Assert.Equal(info + "\n", host.Stdout);
    }

    [Fact]
    public void NoContentPrintsNothing()
    {
        var (host, server) = Setup(Ok204);
        Assert.Equal(0, host.Run("--api-socket", "s", "pause"));
        Assert.Equal("PUT /api/v1/vm.pause HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", server.Request);
        Assert.Equal((string.Empty, string.Empty), (host.Stdout, host.Stderr));
    }

    [Fact]
    public void EmptyBodyWithContentLengthPrintsAnEmptyLine()
    {
        var (host, server) = Setup(Json(200, string.Empty));
        Assert.Equal(0, host.Run("--api-socket", "s", "shutdown-vmm"));
        Assert.Equal("PUT /api/v1/vmm.shutdown HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", server.Request);
        Assert.Equal("\n", host.Stdout);
    }

    [Fact]
    public void BodiesAreSentWithContentLengthAndTheFdsRideOnTheFirstChunk()
    {
        var (host, server) = Setup(Ok204);
        Assert.Equal(0, host.Run("--api-socket", "s", "add-net", "fd=[3,4],mac=12:34:56:78:9a:bc"));
        const string body = """{"pci_segment":0,"mac":"12:34:56:78:9a:bc","num_queues":2,"queue_size":256,"vhost_user":false,"vhost_mode":"Client","offload_tso":true,"offload_ufo":true,"offload_csum":true}""";
        Assert.Equal($"PUT /api/v1/vm.add-net HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nContent-Length: {body.Length}\r\n\r\n{body}", server.Request);
        var (data, fds) = Assert.Single(server.FdMessages);
        Assert.Equal("PUT /api/v1/vm.add-net HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n", System.Text.Encoding.UTF8.GetString(data));
        Assert.Equal([3, 4], fds);
    }

    [Fact]
    public void ServerErrorsPrintTheChainAndExit1()
    {
        var (host, _) = Setup(Json(404, """["Error from API","The VM info is not available","VM is not created"]"""));
        Assert.Equal(1, host.Run("--api-socket", "s", "info"));
        Assert.Equal(string.Empty, host.Stdout);
        Assert.Equal(
            LogPrefix + """Fatal error: HttpApiClient(ServerResponse(NotFound, Some("[\"Error from API\",\"The VM info is not available\",\"VM is not created\"]")))""" + "\n" +
            ErrorHeader + "  0: http client error\n  1: Server responded with NotFound\n  2: Error from API\n  3: The VM info is not available\n  4: VM is not created\n",
            host.Stderr);
    }

    [Fact]
    public void ConflictIsUnknown()
    {
        var (host, _) = Setup(Json(409, """["Error from API","The disk could not be added to the VM","Failed to validate config","Identifier disk0 is not unique"]"""));
        Assert.Equal(1, host.Run("--api-socket", "s", "add-disk", "path=/a.img,id=disk0"));
        Assert.EndsWith(
            ErrorHeader + "  0: http client error\n  1: Server responded with Unknown\n  2: Error from API\n  3: The disk could not be added to the VM\n" +
            "  4: Failed to validate config\n  5: Identifier disk0 is not unique\n",
            host.Stderr);
    }

    [Fact]
    public void ErrorWithoutContentLengthHasNoBody()
    {
        var (host, _) = Setup("HTTP/1.1 400 \r\nServer: Firecracker API\r\n\r\n");
        Assert.Equal(1, host.Run("--api-socket", "s", "boot"));
        Assert.Equal(
            LogPrefix + "Fatal error: HttpApiClient(ServerResponse(BadRequest, None))\n" + ErrorHeader + "  0: http client error\n" +
            "  X: Can't get remote's error messages from JSON response: EOF while parsing a value at line 1 column 0: body=''\n",
            host.Stderr);
    }

    [Fact]
    public void ConnectFailureIsLoggedWithExit1()
    {
        var host = new FakeRemoteHost();
        Assert.Equal(1, host.Run("--api-socket", "/nonexistent", "ping"));
        Assert.Equal(LogPrefix + "Error opening HTTP socket: No such file or directory (os error 2)\n", host.Stderr);
        Assert.Equal(string.Empty, host.Stdout);
    }

    [Fact]
    public void NoSocketIsLoggedWithExit1()
    {
        var host = new FakeRemoteHost();
        Assert.Equal(1, host.Run("ping"));
        Assert.Equal(LogPrefix + "Please either provide the api-socket option or dbus-service-name and dbus-object-path options\n", host.Stderr);
    }

    [Fact]
    public void RustLogOffSilencesTheLogRecordButNotTheChain()
    {
        var (host, _) = Setup(Json(500, """["Error from API","The VM could not be paused","VM is not running"]"""));
        host.Environment["RUST_LOG"] = "off";
        Assert.Equal(1, host.Run("--api-socket", "s", "pause"));
        Assert.StartsWith(ErrorHeader, host.Stderr);
    }

    [Fact]
    public void ArgumentErrorsComeAfterConnecting()
    {
        var (host, server) = Setup(Ok204);
        Assert.Equal(1, host.Run("--api-socket", "s", "add-disk", "foo=bar"));
        Assert.Equal(string.Empty, server.Request);
        Assert.Equal(
            LogPrefix + """Fatal error: AddDiskConfig(ParseDisk(UnknownOption("foo")))""" + "\n" +
            ErrorHeader + "  0: Error parsing disk syntax\n  1: Error parsing --disk\n  2: Unknown option: foo\n",
            host.Stderr);

        var unreachable = new FakeRemoteHost();
        Assert.Equal(1, unreachable.Run("--api-socket", "s", "add-disk", "foo=bar"));
        Assert.Equal(LogPrefix + "Error opening HTTP socket: No such file or directory (os error 2)\n", unreachable.Stderr);
    }

    [Fact]
    public void MissingArgumentExits101WithoutSendingAnything()
    {
        var (host, server) = Setup(Ok204);
        Assert.Equal(101, host.Run("--api-socket", "s", "remove-device"));
        Assert.Equal(string.Empty, server.Request);
        Assert.Equal("thread 'main' panicked: ch-remote remove-device: missing argument <id> (upstream calls `Option::unwrap()` on a `None` value here)\n", host.Stderr);
    }

    [Fact]
    public void ClapErrorsExit2BeforeConnecting()
    {
        var host = new FakeRemoteHost();
        Assert.Equal(2, host.Run("--api-socket", "s", "bogus"));
        Assert.Null(host.ConnectedPath);
        Assert.StartsWith("error: unrecognized subcommand 'bogus'\n", host.Stderr);
        Assert.Equal(0, host.Run("-V"));
        Assert.Equal("ch-remote v54.0.0\n", host.Stdout);
    }

    [Theory]
    [InlineData("", "HttpApiClient(MissingProtocol)", "  1: HTTP output is missing protocol statement\n")]
    [InlineData("HTTP/1.1 abc \r\n\r\n", "HttpApiClient(StatusCodeParsing(ParseIntError { kind: InvalidDigit }))", "  1: Error parsing HTTP status code\n  2: invalid digit found in string\n")]
    [InlineData("HTTP/1.1 200 \r\nContent-Length: x\r\n\r\n", "HttpApiClient(ContentLengthParsing(ParseIntError { kind: InvalidDigit }))", "  1: Error parsing HTTP Content-Length field\n  2: invalid digit found in string\n")]
    public void ProtocolErrors(string response, string debug, string chain)
    {
        var (host, _) = Setup(response);
        Assert.Equal(1, host.Run("--api-socket", "s", "ping"));
        Assert.Equal(LogPrefix + "Fatal error: " + debug + "\n" + ErrorHeader + "  0: http client error\n" + chain, host.Stderr);
    }

    [Fact]
    public void WriteFailuresAreSocketErrors()
    {
        var (host, server) = Setup(Ok204);
        server.WriteErrno = 32;
        Assert.Equal(1, host.Run("--api-socket", "s", "boot"));
        Assert.Equal(
            LogPrefix + """Fatal error: HttpApiClient(Socket(Os { code: 32, kind: BrokenPipe, message: "Broken pipe" }))""" + "\n" +
            ErrorHeader + "  0: http client error\n  1: Error writing to or reading from HTTP socket\n  2: Broken pipe (os error 32)\n",
            host.Stderr);
    }

    [Fact]
    public void SuccessStatusWithoutHeadersEndStopsAtEndOfStream()
    {
        var (host, _) = Setup("HTTP/1.1 204 \r\n");
        Assert.Equal(0, host.Run("--api-socket", "s", "resume"));
        Assert.Equal(string.Empty, host.Stdout);
    }
}
