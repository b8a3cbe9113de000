using CloudHypervisor.Api.Client;
using CloudHypervisor.Api.Client.Remote;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Tests.Remote;

public class RemoteErrorReportTests
{
    private static RemoteCommandException Http(ApiClientException error) => new("http client error", "HttpApiClient", error);

    [Fact]
    public void ExpandsTheServerChain()
    {
        var error = Http(new ApiServerException(404, """["Error from API","The VM info is not available","VM is not created"]"""));
        Assert.Equal(
            "Error: ch-remote exited with the following chain of errors:\n" +
            "  0: http client error\n  1: Server responded with NotFound\n  2: Error from API\n  3: The VM info is not available\n  4: VM is not created\n",
            RemoteErrorReport.Render(error));
        Assert.Equal(
            """HttpApiClient(ServerResponse(NotFound, Some("[\"Error from API\",\"The VM info is not available\",\"VM is not created\"]")))""",
            RustDebugFormat.Of(error));
    }

    [Theory]
    [InlineData(409, "Unknown")]
    [InlineData(405, "Unknown")]
    [InlineData(503, "Unknown")]
    [InlineData(400, "BadRequest")]
    [InlineData(429, "TooManyRequests")]
    [InlineData(500, "InternalServerError")]
    [InlineData(501, "NotImplemented")]
    public void NamesStatusesLikeUpstream(int code, string name) =>
        Assert.Contains($"  1: Server responded with {name}\n  2: Bad\n", RemoteErrorReport.Render(Http(new ApiServerException((ulong)code, """["Bad"]"""))));

    [Fact]
    public void ABodyThatIsNotAStringArrayGetsAnXLine()
    {
        var error = Http(new ApiServerException(503, "{ \"error\": \"Too many open connections\" }"));
        Assert.Equal(
            "Error: ch-remote exited with the following chain of errors:\n  0: http client error\n" +
            "  X: Can't get remote's error messages from JSON response: invalid type: map, expected a sequence at line 1 column 0: body='{ \"error\": \"Too many open connections\" }'\n",
            RemoteErrorReport.Render(error));
    }

    [Fact]
    public void AMissingBodyIsParsedAsEmpty()
    {
        var error = Http(new ApiServerException(400, null));
        Assert.EndsWith("  X: Can't get remote's error messages from JSON response: EOF while parsing a value at line 1 column 0: body=''\n", RemoteErrorReport.Render(error));
        Assert.Equal("HttpApiClient(ServerResponse(BadRequest, None))", RustDebugFormat.Of(error));
    }

    [Fact]
    public void SocketErrorsShowTheOsError()
    {
        var error = Http(ApiClientException.Socket(new OsException(104)));
        Assert.Equal(
            "Error: ch-remote exited with the following chain of errors:\n  0: http client error\n  1: Error writing to or reading from HTTP socket\n  2: Connection reset by peer (os error 104)\n",
            RemoteErrorReport.Render(error));
        Assert.Equal("""HttpApiClient(Socket(Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer" }))""", RustDebugFormat.Of(error));
        Assert.Equal("HttpApiClient(SocketSendFds(Error(9)))", RustDebugFormat.Of(Http(ApiClientException.SendFds(new OsException(9)))));
        Assert.Equal("HttpApiClient(MissingProtocol)", RustDebugFormat.Of(Http(ApiClientException.MissingProtocol())));
    }

    [Fact]
    public void ParseErrorsRenderAsTheirRustVariants()
    {
        var disk = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["add-disk", "foo=bar"]), new FakeRemoteHost()));
        Assert.Equal("""AddDiskConfig(ParseDisk(UnknownOption("foo")))""", RustDebugFormat.Of(disk));
        var net = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["add-net", "mtu=big"]), new FakeRemoteHost()));
        Assert.Equal("""AddNetConfig(ParseNetwork(Conversion("mtu", "big")))""", RustDebugFormat.Of(net));
        var cpus = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["resize", "--cpus", ""]), new FakeRemoteHost()));
        Assert.Equal("InvalidCpuCount(ParseIntError { kind: Empty })", RustDebugFormat.Of(cpus));
        var memory = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["resize", "--memory", "1Q"]), new FakeRemoteHost()));
        Assert.Equal("""InvalidMemorySize(InvalidValue("1Q"))""", RustDebugFormat.Of(memory));
        var vsock = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["add-vsock", "cid=3"]), new FakeRemoteHost()));
        Assert.Equal("AddVsockConfig(ParseVsockSockMissing)", RustDebugFormat.Of(vsock));
        var send = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["send-migration", "destination_url=unix:/s,connections=0"]), new FakeRemoteHost()));
        Assert.Equal("""SendMigrationConfig(Parse(InvalidValue("connections must be non-zero")))""", RustDebugFormat.Of(send));
        var stdin = Assert.Throws<RemoteCommandException>(() => RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["create"]), new FakeRemoteHost { StandardInput = [0xc3] }));
        Assert.Equal("""ReadingStdin(Error { kind: InvalidData, message: "stream did not contain valid UTF-8" })""", RustDebugFormat.Of(stdin));
    }
}
