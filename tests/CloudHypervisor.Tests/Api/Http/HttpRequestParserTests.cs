using System.Text;
using CloudHypervisor.Api.Http;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>The request parser's limits and error texts match upstream's micro-http engine.</summary>
public class HttpRequestParserTests
{
    private const int Whole = int.MaxValue;

    [Theory]
    [InlineData(Whole)]
    [InlineData(1)]
    [InlineData(7)]
    public void ParsesAGetInAnyChunking(int chunk)
    {
        var outcome = Parse("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", chunk);
        var request = Assert.Single(outcome.Requests);
        Assert.Null(outcome.Error);
        Assert.Equal(HttpRequestMethod.Get, request.Method);
        Assert.Equal("/api/v1/vmm.ping", request.Target);
        Assert.Equal("/api/v1/vmm.ping", request.Path);
        Assert.Equal(HttpProtocolVersion.Http11, request.Version);
        Assert.Null(request.Body);
    }

    [Theory]
    [InlineData(Whole)]
    [InlineData(1)]
    [InlineData(5)]
    public void ReadsTheBodyByContentLength(int chunk)
    {
        var outcome = Parse("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\r\n\"}", chunk);
        var request = Assert.Single(outcome.Requests);
        Assert.Equal(HttpRequestMethod.Put, request.Method);
        Assert.Equal("{\"a\":\"b\r\n\"}", Encoding.UTF8.GetString(request.Body!));
    }

    [Theory]
    [InlineData("GET", HttpRequestMethod.Get)]
    [InlineData("PUT", HttpRequestMethod.Put)]
    [InlineData("PATCH", HttpRequestMethod.Patch)]
    [InlineData("DELETE", HttpRequestMethod.Delete)]
    public void AcceptsTheFourMethods(string method, HttpRequestMethod expected) =>
        Assert.Equal(expected, Assert.Single(Parse($"{method} /x HTTP/1.0\r\n\r\n").Requests).Method);

    [Theory]
    [InlineData("POST")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    [InlineData("get")]
    [InlineData("Put")]
    public void RejectsOtherMethods(string method) =>
        Assert.Equal("Invalid HTTP Method: Unsupported HTTP method.", Parse($"{method} /api/v1/vmm.ping HTTP/1.1\r\n\r\n").Error);

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("http/1.1")]
    [InlineData("HTTP/1.1 ")]
    [InlineData("HTTP/1.1 extra")]
    [InlineData("")]
    public void RejectsOtherVersions(string version) =>
        Assert.Equal("Invalid HTTP Version: Unsupported HTTP version.", Parse($"GET /x {version}\r\n\r\n").Error);

    [Fact]
    public void Http10IsAccepted() =>
        Assert.Equal(HttpProtocolVersion.Http10, Assert.Single(Parse("GET /x HTTP/1.0\r\n\r\n").Requests).Version);

    [Theory]
    [InlineData("GET\r\n")]
    [InlineData("GET /x\r\n")]
    [InlineData("\r\n")]
    [InlineData("GET/xHTTP/1.1\r\n")]
    public void RequestLinesWithoutThreePartsAreInvalid(string input) =>
        Assert.Equal("Invalid request.", Parse(input).Error);

    [Fact]
    public void MethodIsCheckedBeforeTheTarget() =>
        Assert.Equal("Invalid HTTP Method: Unsupported HTTP method.", Parse("POST  HTTP/9\r\n\r\n").Error);

    [Fact]
    public void EmptyTargetIsInvalid() =>
        Assert.Equal("Invalid URI: Empty URI not allowed.", Parse("GET  HTTP/1.1\r\n\r\n").Error);

    [Fact]
    public void NonUtf8TargetIsInvalid() =>
        Assert.Equal("Invalid URI: Cannot parse URI as UTF-8.", Parse([.. "GET /"u8, 0xFF, .. " HTTP/1.1\r\n\r\n"u8]).Error);

    [Theory]
    [InlineData("http://localhost/api/v1/vmm.ping", "/api/v1/vmm.ping")]
    [InlineData("http://localhost:8080/api/v1/vm.info", "/api/v1/vm.info")]
    [InlineData("http://localhost", "")]
    [InlineData("http://", "")]
    [InlineData("api/v1/vmm.ping", "")]
    [InlineData("/api/v1/vmm.ping?x=1", "/api/v1/vmm.ping?x=1")]
    [InlineData("https://localhost/api/v1/vmm.ping", "")]
    public void PathFollowsUpstreamAbsolutePathRules(string target, string path)
    {
        var request = Assert.Single(Parse($"GET {target} HTTP/1.1\r\n\r\n").Requests);
        Assert.Equal(target, request.Target);
        Assert.Equal(path, request.Path);
    }

    [Theory]
    [InlineData(Whole)]
    [InlineData(100)]
    public void RequestLineMayFillTheBufferExactly(int chunk)
    {
        var target = "/" + new string('a', 1024 - "GET  HTTP/1.1\r\n".Length - 1);
        var line = $"GET {target} HTTP/1.1\r\n";
        Assert.Equal(1024, line.Length);
        Assert.Equal(target, Assert.Single(Parse(line + "\r\n", chunk).Requests).Target);
    }

    [Theory]
    [InlineData(Whole)]
    [InlineData(100)]
    public void RequestLineOneByteOverTheBufferIsInvalid(int chunk)
    {
        var line = $"GET /{new string('a', 1024 - "GET  HTTP/1.1\r\n".Length)} HTTP/1.1\r\n";
        Assert.Equal(1025, line.Length);
        Assert.Equal("Invalid request.", Parse(line + "\r\n", chunk).Error);
    }

    [Fact]
    public void HeaderLineMayFillTheBufferExactly()
    {
        var header = "X-Long: " + new string('v', 1024 - "X-Long: \r\n".Length) + "\r\n";
        Assert.Equal(1024, header.Length);
        Assert.Single(Parse("GET /x HTTP/1.1\r\n" + header + "\r\n").Requests);
    }

    [Theory]
    [InlineData(Whole)]
    [InlineData(3)]
    public void HeaderLineOverTheBufferReportsItsFirst1024Bytes(int chunk)
    {
        var header = "head: " + string.Concat(Enumerable.Repeat("abcdefghijkl", 86)) + "\r\n\r\n";
        var error = Parse("PATCH http://localhost/home HTTP/1.1\r\n" + header, chunk).Error;
        Assert.Equal("Invalid header. Reason: Invalid content length. Header: " + header[..1024], error);
    }

    [Fact]
    public void ContentLengthThatIsNotANumberNamesKeyAndValueAsSent() =>
        Assert.Equal(
            "Invalid header. Reason: Invalid value. Key:Content-Length; Value: abc",
            Parse("PUT /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n").Error);

    [Theory]
    [InlineData("content-length:  -1", "Invalid header. Reason: Invalid value. Key:content-length; Value:  -1")]
    [InlineData("Content-Length:", "Invalid header. Reason: Invalid value. Key:Content-Length; Value:")]
    [InlineData("Content-Length: 4294967296", "Invalid header. Reason: Invalid value. Key:Content-Length; Value: 4294967296")]
    [InlineData("Content-Length: 1 2", "Invalid header. Reason: Invalid value. Key:Content-Length; Value: 1 2")]
    [InlineData("Content-Length: +", "Invalid header. Reason: Invalid value. Key:Content-Length; Value: +")]
    public void BadContentLengthValues(string header, string error) =>
        Assert.Equal(error, Parse($"PUT /x HTTP/1.1\r\n{header}\r\n\r\n").Error);

    [Theory]
    [InlineData("Content-Length: +3")]
    [InlineData("content-LENGTH:\t3 ")]
    [InlineData("Content-Length: 003")]
    [InlineData(" Content-Length : 3")]
    public void ContentLengthIsParsedLikeRustU32(string header) =>
        Assert.Equal("abc", Encoding.ASCII.GetString(Assert.Single(Parse($"PUT /x HTTP/1.1\r\n{header}\r\n\r\nabc").Requests).Body!));

    [Fact]
    public void ZeroContentLengthMeansNoBody() =>
        Assert.Null(Assert.Single(Parse("PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n").Requests).Body);

    [Fact]
    public void PayloadAtTheLimitIsAccepted()
    {
        var parser = new HttpRequestParser();
        var head = Encoding.ASCII.GetBytes("PUT /x HTTP/1.1\r\nContent-Length: 4194304\r\n\r\n");
        Assert.Equal(HttpParseStatus.NeedMoreData, parser.Parse(head, out _));
        Assert.Equal(4194304, parser.BodyRemaining.Length);
        parser.BodyRemaining.Fill((byte)'x');
        Assert.Equal(HttpParseStatus.RequestReady, parser.BodyReceived(4194304));
        Assert.Equal(4194304, parser.TakeRequest().Body!.Length);
    }

    [Fact]
    public void PayloadOverTheLimitIsRejectedBeforeTheBodyArrives() =>
        Assert.Equal(
            "Request payload with size 4194305 is larger than the limit of 4194304 allowed by server.",
            Parse("PUT /x HTTP/1.1\r\nContent-Length: 4194305\r\n\r\n").Error);

    [Fact]
    public void HeaderWithoutColonIsIncorrectlyFormatted() =>
        Assert.Equal(
            "Invalid header. Reason: Header is incorrectly formatted. Key: NoColonHere",
            Parse("GET /x HTTP/1.1\r\nNoColonHere\r\n\r\n").Error);

    [Theory]
    [InlineData(new byte[] { (byte)'X', (byte)':', (byte)' ', 0xFF }, "invalid utf-8 sequence of 1 bytes from index 3")]
    [InlineData(new byte[] { (byte)'X', (byte)':', 0xE2, 0x82, (byte)'A' }, "invalid utf-8 sequence of 2 bytes from index 2")]
    [InlineData(new byte[] { (byte)'X', (byte)':', 0xE2, 0x82 }, "incomplete utf-8 byte sequence from index 2")]
    [InlineData(new byte[] { (byte)'X', 0xE0, 0x80, 0x80 }, "invalid utf-8 sequence of 1 bytes from index 1")]
    [InlineData(new byte[] { (byte)'X', 0xF0, 0x9F, 0x98 }, "incomplete utf-8 byte sequence from index 1")]
    public void NonUtf8HeaderReportsRustsUtf8Error(byte[] header, string detail)
    {
        byte[] input = [.. "GET /x HTTP/1.1\r\n"u8.ToArray(), .. header, .. "\r\n\r\n"u8.ToArray()];
        Assert.Equal("Invalid header. Reason: Header contains invalid characters. Key: " + detail, Parse(input).Error);
    }

    [Fact]
    public void UnknownHeadersAndUnsupportedValuesAreIgnored()
    {
        var request = Assert.Single(Parse(
            "GET /x HTTP/1.1\r\nX-Custom: 1\r\nContent-Type: text/html\r\nAccept: image/png\r\nExpect: 200-ok\r\nTransfer-Encoding: gzip\r\nServer: me\r\n\r\n").Requests);
        Assert.False(request.ExpectContinue);
        Assert.False(request.Chunked);
    }

    [Fact]
    public void ChunkedTransferEncodingIsRecordedButNotDecoded()
    {
        var request = Assert.Single(Parse("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n3\r\nab").Requests);
        Assert.True(request.Chunked);
        Assert.Equal("3\r\nab", Encoding.ASCII.GetString(request.Body!));
    }

    [Fact]
    public void ExpectContinueIsSignalledBetweenHeadersAndBody()
    {
        var parser = new HttpRequestParser();
        var input = Encoding.ASCII.GetBytes("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
        Assert.Equal(HttpParseStatus.ContinueRequested, parser.Parse(input, out var consumed));
        Assert.Equal(input.Length - 2, consumed);
        Assert.Equal(HttpProtocolVersion.Http10, parser.Version);
        Assert.Equal(HttpParseStatus.RequestReady, parser.Parse(input.AsSpan(consumed), out _));
        Assert.True(parser.TakeRequest().ExpectContinue);
    }

    [Fact]
    public void ExpectContinueWithoutBodyNeedsNoInterimResponse()
    {
        var outcome = Parse("GET /x HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(0, outcome.Continues);
        Assert.Single(outcome.Requests);
    }

    [Theory]
    [InlineData("identity;q=0", "identity;q=0")]
    [InlineData("gzip, identity;q=0", " identity;q=0")]
    [InlineData("*;q=0", "*;q=0")]
    public void AcceptEncodingRefusingIdentityIsInvalid(string value, string reported) =>
        Assert.Equal(
            $"Invalid header. Reason: Invalid value. Key:Accept-Encoding; Value:{reported}",
            Parse($"GET /x HTTP/1.1\r\nAccept-Encoding: {value}\r\n\r\n").Error);

    [Fact]
    public void EmptyAcceptEncodingIsAnInvalidRequest() =>
        Assert.Equal("Invalid request.", Parse("GET /x HTTP/1.1\r\nAccept-Encoding:  \r\n\r\n").Error);

    [Theory]
    [InlineData("gzip, deflate")]
    [InlineData("*;q=0, identity")]
    public void AcceptEncodingAllowingIdentityIsFine(string value) =>
        Assert.Single(Parse($"GET /x HTTP/1.1\r\nAccept-Encoding: {value}\r\n\r\n").Requests);

    [Theory]
    [InlineData(Whole)]
    [InlineData(1)]
    public void PipelinedRequestsComeOutInOrder(int chunk)
    {
        var outcome = Parse("GET /a HTTP/1.1\r\n\r\nPUT /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nxDELETE /c HTTP/1.1\r\n\r\n", chunk);
        Assert.Equal(["/a", "/b", "/c"], outcome.Requests.Select(r => r.Target));
    }

    [Fact]
    public void PartialRequestIsTracked()
    {
        var parser = new HttpRequestParser();
        Assert.False(parser.HasPartialRequest);
        parser.Parse("GE"u8, out _);
        Assert.True(parser.HasPartialRequest);
        parser.Parse("T /x HTTP/1.1\r\n\r\n"u8, out _);
        parser.TakeRequest();
        Assert.False(parser.HasPartialRequest);
    }

    [Fact]
    public void FailureIsFinal()
    {
        var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.Failed, parser.Parse("POST /x HTTP/1.1\r\n\r\n"u8, out _));
        Assert.Equal(HttpParseStatus.Failed, parser.Parse("GET /x HTTP/1.1\r\n\r\n"u8, out _));
        Assert.Throws<InvalidOperationException>(() => parser.TakeRequest());
    }

    internal sealed record Outcome(List<HttpRequest> Requests, string? Error, int Continues);

    internal static Outcome Parse(string input, int chunk = Whole) => Parse(Encoding.UTF8.GetBytes(input), chunk);

    internal static Outcome Parse(byte[] input, int chunk = Whole)
    {
        var parser = new HttpRequestParser();
        var requests = new List<HttpRequest>();
        var continues = 0;
        for (var offset = 0; offset < input.Length; offset += chunk)
        {
            ReadOnlySpan<byte> data = input.AsSpan(offset, Math.Min(chunk, input.Length - offset));
            while (true)
            {
                var status = parser.Parse(data, out var consumed);
                data = data[consumed..];
                switch (status)
                {
                    case HttpParseStatus.RequestReady:
                        requests.Add(parser.TakeRequest());
                        continue;
                    case HttpParseStatus.ContinueRequested:
                        continues++;
                        continue;
                    case HttpParseStatus.Failed:
                        return new Outcome(requests, parser.Error, continues);
                }

                Assert.True(data.IsEmpty, "NeedMoreData must consume all input");
                break;
            }
        }

        return new Outcome(requests, null, continues);
    }
}
