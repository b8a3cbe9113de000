using System.Buffers;
using System.Globalization;
using System.Text;

namespace CloudHypervisor.Api.Http;

/// <summary>Serialises responses byte-for-byte like the upstream engine.</summary>
public static class HttpResponseWriter
{
    /// <summary>What a connection beyond the limit receives before it is closed (no trailing space on the status line).</summary>
    public static ReadOnlySpan<byte> ServerFull =>
        "HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: 40\r\n\r\n{ \"error\": \"Too many open connections\" }"u8;

    public static void Write(HttpResponse response, IBufferWriter<byte> output) =>
        Write(HttpProtocolVersion.Http11, response.StatusCode, response.Server, response.CloseConnection, response.Body, output);

    /// <summary>The interim response queued before reading the body of an "Expect: 100-continue" request.</summary>
    public static void WriteContinue(HttpProtocolVersion version, IBufferWriter<byte> output) =>
        Write(version, 100, HttpResponse.EngineServerName, close: false, body: null, output);

    public static byte[] ToBytes(HttpResponse response)
    {
        var output = new ArrayBufferWriter<byte>(256);
        Write(response, output);
        return output.WrittenSpan.ToArray();
    }

    private static void Write(HttpProtocolVersion version, int status, string server, bool close, byte[]? body, IBufferWriter<byte> output)
    {
        Append(output, version == HttpProtocolVersion.Http10 ? "HTTP/1.0 "u8 : "HTTP/1.1 "u8);
        AppendNumber(output, status);
        Append(output, " \r\nServer: "u8);
        AppendAscii(output, server);
        Append(output, close ? "\r\nConnection: close\r\n"u8 : "\r\nConnection: keep-alive\r\n"u8);
        var hasBody = status is not (100 or 204);
        if (hasBody)
        {
            Append(output, "Content-Type: application/json\r\nContent-Length: "u8);
            AppendNumber(output, body?.Length ?? 0);
            Append(output, "\r\n"u8);
        }

        Append(output, "\r\n"u8);
        if (hasBody && body is { Length: > 0 })
        {
            Append(output, body);
        }
    }

    private static void Append(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void AppendAscii(IBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, output.GetSpan(length));
        output.Advance(length);
    }

    private static void AppendNumber(IBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(11);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }
}
