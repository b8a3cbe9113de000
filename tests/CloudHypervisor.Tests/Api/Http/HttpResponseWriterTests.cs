using System.Text;
using CloudHypervisor.Api.Http;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>Responses are byte-identical to what upstream's engine writes.</summary>
public class HttpResponseWriterTests
{
    [Fact]
    public void NoContentHasNoContentHeadersAndNoBody() =>
        Assert.Equal(
            "HTTP/1.1 204 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\n\r\n",
            Text(HttpResponse.NoContent()));

    [Fact]
    public void NoContentNeverCarriesABodyEvenIfGivenOne() =>
        Assert.Equal(
            "HTTP/1.1 204 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\n\r\n",
            Text(new HttpResponse(204, "{}"u8.ToArray())));

    [Fact]
    public void OkCarriesJsonBodyWithTypeAndLength() =>
        Assert.Equal(
            "HTTP/1.1 200 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r\n{\"build_version\":\"v54.0.0\",\"version\":\"54.0.0\"}",
            Text(HttpResponse.Ok("{\"build_version\":\"v54.0.0\",\"version\":\"54.0.0\"}"u8.ToArray())));

    [Fact]
    public void NotFoundMatchesTheReference() =>
        Assert.Equal(
            "HTTP/1.1 404 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n[\"Not Found\"]",
            Text(HttpResponse.NotFound()));

    [Fact]
    public void EmptyNon204StillSaysContentLengthZero() =>
        Assert.Equal(
            "HTTP/1.1 400 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
            Text(HttpResponse.Empty(400)));

    [Fact]
    public void ShutdownStyleOkWithEmptyBody() =>
        Assert.EndsWith("Content-Length: 0\r\n\r\n", Text(HttpResponse.Empty(200)));

    [Fact]
    public void ApiErrorBodyIsTheCompactChain() =>
        Assert.Equal(
            "HTTP/1.1 500 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 69\r\n\r\n[\"Error from API\",\"The VM info is not available\",\"VM is not created\"]",
            Text(HttpResponse.Error(500, "Error from API", "The VM info is not available", "VM is not created")));

    [Fact]
    public void BadRequestBody() =>
        Assert.EndsWith("Content-Length: 15\r\n\r\n[\"Bad Request\"]", Text(HttpResponse.BadRequest()));

    [Fact]
    public void ParseErrorUsesTheEngineServerNameAndANonJsonBody() =>
        Assert.Equal(
            "HTTP/1.1 400 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 136\r\n\r\n"
            + "{ \"error\": \"Invalid header. Reason: Invalid value. Key:Content-Length; Value: alpha\nAll previous unanswered requests will be dropped.\" }",
            Text(HttpResponse.ParseError("Invalid header. Reason: Invalid value. Key:Content-Length; Value: alpha")));

    [Fact]
    public void ContinueInterimResponse()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        HttpResponseWriter.WriteContinue(HttpProtocolVersion.Http11, output);
        Assert.Equal("HTTP/1.1 100 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void ServerFullMessageIsExact()
    {
        var text = Encoding.ASCII.GetString(HttpResponseWriter.ServerFull);
        Assert.Equal("HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: 40\r\n\r\n{ \"error\": \"Too many open connections\" }", text);
        Assert.Equal(40, text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..].Length);
    }

    [Fact]
    public void CloseFlagSaysConnectionClose() =>
        Assert.Contains("\r\nConnection: close\r\n", Text(new HttpResponse(500) { CloseConnection = true }));

    [Fact]
    public void StatusCodeMustHaveThreeDigits() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpResponse(42));

    [Theory]
    [InlineData("plain", "[\"plain\"]")]
    [InlineData("quote\" back\\slash", "[\"quote\\\" back\\\\slash\"]")]
    [InlineData("nl\n cr\r tab\t bs\b ff\f", "[\"nl\\n cr\\r tab\\t bs\\b ff\\f\"]")]
    [InlineData("ctl\u0001\u001f del\u007f", "[\"ctl\\u0001\\u001f del\u007f\"]")]
    [InlineData("slash / é ✓", "[\"slash / é ✓\"]")]
    [InlineData("missing field `source_url` at line 1 column 2", "[\"missing field `source_url` at line 1 column 2\"]")]
    public void JsonEscapingMatchesSerde(string item, string json) =>
        Assert.Equal(json, Encoding.UTF8.GetString(JsonStringArray.Encode([item])));

    [Fact]
    public void JsonArrayOfSeveralAndOfNone()
    {
        Assert.Equal("[\"a\",\"b\"]", Encoding.UTF8.GetString(JsonStringArray.Encode(["a", "b"])));
        Assert.Equal("[]", Encoding.UTF8.GetString(JsonStringArray.Encode([])));
    }

    private static string Text(HttpResponse response) => Encoding.UTF8.GetString(HttpResponseWriter.ToBytes(response));
}
