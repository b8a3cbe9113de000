using System.Text;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client;

/// <summary>
/// Reads one response like upstream's api_client: 256-byte reads until the end of the headers,
/// then, if a "Content-Length: " header exists, until that many body bytes arrived (or end of
/// stream). Headers are found by plain text search, as upstream does.
/// </summary>
internal static class HttpResponseReader
{
    private const int ChunkSize = 256;
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ContentLengthHeader = "Content-Length: "u8.ToArray();
    private static readonly byte[] Protocol = "HTTP/1.1"u8.ToArray();

    public static ApiResponse Read(IApiConnection connection)
    {
        var received = new List<byte>();
        var chunk = new byte[ChunkSize];
        int? bodyOffset = null;
        ulong? contentLength = null;
        while (true)
        {
            int count;
            try
            {
                count = connection.Read(chunk);
            }
            catch (OsException e)
            {
                throw ApiClientException.Socket(e);
            }

            if (count == 0)
            {
                break;
            }

            received.AddRange(chunk.AsSpan(0, count));
            var data = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(received);
            var headerEnd = data.IndexOf(HeaderEnd);
            if (headerEnd >= 0)
            {
                bodyOffset = headerEnd + HeaderEnd.Length;
                contentLength = FindContentLength(data);
                if (contentLength is null)
                {
                    break;
                }
            }

            if (bodyOffset is { } offset && contentLength is { } length && (ulong)(data.Length - offset) >= length)
            {
                break;
            }
        }

        var all = received.ToArray();
        var body = contentLength is not null && bodyOffset is { } start ? all[start..] : null;
        return new ApiResponse(ParseStatusCode(all), body);
    }

    private static ulong? FindContentLength(ReadOnlySpan<byte> data)
    {
        var at = data.IndexOf(ContentLengthHeader);
        if (at < 0)
        {
            return null;
        }

        var value = LineFrom(data, at + ContentLengthHeader.Length);
        try
        {
            return IntegerParseException.ParseUnsigned(value.Trim(), ulong.MaxValue);
        }
        catch (IntegerParseException e)
        {
            throw ApiClientException.ContentLengthParse(e);
        }
    }

    private static ulong ParseStatusCode(byte[] data)
    {
        var at = data.AsSpan().IndexOf(Protocol);
        if (at < 0)
        {
            throw ApiClientException.MissingProtocol();
        }

        var code = LineFrom(data, at + Protocol.Length + 1);
        try
        {
            return IntegerParseException.ParseUnsigned(code.Trim(), ulong.MaxValue);
        }
        catch (IntegerParseException e)
        {
            throw ApiClientException.StatusCodeParse(e);
        }
    }

    /// <summary>The text from <paramref name="start"/> up to the next carriage return (or the end).</summary>
    private static string LineFrom(ReadOnlySpan<byte> data, int start)
    {
        if (start >= data.Length)
        {
            return string.Empty;
        }

        var rest = data[start..];
        var end = rest.IndexOf((byte)'\r');
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }
}
