using System.Text;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Api.Http;

/// <summary>What <see cref="HttpRequestParser"/> stopped for.</summary>
public enum HttpParseStatus
{
    /// <summary>All input was consumed without completing a request.</summary>
    NeedMoreData,

    /// <summary>A request is complete: collect it with <see cref="HttpRequestParser.TakeRequest"/>.</summary>
    RequestReady,

    /// <summary>Headers with "Expect: 100-continue" and a body ended: queue the interim 100 response.</summary>
    ContinueRequested,

    /// <summary>The input is not a request this engine accepts; <see cref="HttpRequestParser.Error"/> says why.</summary>
    Failed,
}

/// <summary>
/// Incremental HTTP/1.x request parser with the upstream engine's limits and error texts: every request
/// line and header line, CRLF included, must fit in 1024 bytes; the body is read by Content-Length only
/// (at most 4 MiB); after a failure the parser stays failed.
/// </summary>
public sealed class HttpRequestParser
{
    public const int LineLimit = 1024;
    public const int MaxPayloadSize = 4 * 1024 * 1024;

    private readonly byte[] line = new byte[LineLimit];
    private int lineLength;
    private State state;
    private HttpRequestMethod method;
    private HttpProtocolVersion version;
    private string target = string.Empty;
    private uint contentLength;
    private bool expectContinue;
    private bool chunked;
    private byte[]? body;
    private int bodyFilled;

    private enum State
    {
        RequestLine,
        Headers,
        Body,
        Ready,
        Failed,
    }

    /// <summary>The failure reason, e.g. "Invalid HTTP Method: Unsupported HTTP method.".</summary>
    public string? Error { get; private set; }

    /// <summary>True while some bytes of a request have arrived but the request is not complete.</summary>
    public bool HasPartialRequest => state is State.Headers or State.Body || (state == State.RequestLine && lineLength > 0);

    /// <summary>The version of the request being received (the 100 Continue answers in kind).</summary>
    public HttpProtocolVersion Version => version;

    /// <summary>Where the rest of the body goes; empty unless the parser is receiving a body.</summary>
    public Span<byte> BodyRemaining => state == State.Body ? body.AsSpan(bodyFilled) : default;

    /// <summary>Consumes bytes until a request completes, an event needs handling, the input ends or it fails.</summary>
    public HttpParseStatus Parse(ReadOnlySpan<byte> data, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            switch (state)
            {
                case State.Failed:
                    return HttpParseStatus.Failed;
                case State.Ready:
                    return HttpParseStatus.RequestReady;
                case State.Body:
                    var take = Math.Min(data.Length - consumed, body!.Length - bodyFilled);
                    data.Slice(consumed, take).CopyTo(body.AsSpan(bodyFilled));
                    consumed += take;
                    var status = BodyReceived(take);
                    if (status != HttpParseStatus.NeedMoreData || consumed == data.Length)
                    {
                        return status;
                    }

                    continue;
            }

            if (consumed == data.Length)
            {
                return HttpParseStatus.NeedMoreData;
            }

            if (!TryTakeLine(data[consumed..], out var text, out var used))
            {
                consumed += used;
                if (lineLength == LineLimit)
                {
                    return state == State.RequestLine
                        ? Fail("Invalid request.")
                        : Fail("Invalid header. Reason: Invalid content length. Header: " + Encoding.UTF8.GetString(line));
                }

                return HttpParseStatus.NeedMoreData;
            }

            consumed += used;
            var next = state == State.RequestLine ? ParseRequestLine(text) : ParseHeaderLine(text);
            lineLength = 0;
            if (next != HttpParseStatus.NeedMoreData)
            {
                return next;
            }
        }
    }

    /// <summary>Records <paramref name="count"/> bytes written straight into <see cref="BodyRemaining"/>.</summary>
    public HttpParseStatus BodyReceived(int count)
    {
        bodyFilled += count;
        if (bodyFilled < body!.Length)
        {
            return HttpParseStatus.NeedMoreData;
        }

        state = State.Ready;
        return HttpParseStatus.RequestReady;
    }

    /// <summary>Returns the completed request (owning <paramref name="files"/>) and resets for the next one.</summary>
    public HttpRequest TakeRequest(SafeFd[]? files = null)
    {
        if (state != State.Ready)
        {
            throw new InvalidOperationException("No request is complete");
        }

        var request = new HttpRequest(method, target, version, body, files) { ExpectContinue = expectContinue, Chunked = chunked };
        state = State.RequestLine;
        target = string.Empty;
        body = null;
        bodyFilled = 0;
        contentLength = 0;
        expectContinue = false;
        chunked = false;
        return request;
    }

    /// <summary>
    /// Finds the next CRLF-terminated line, either straight in <paramref name="data"/> or after the
    /// bytes already buffered; otherwise buffers what fits (at most <see cref="LineLimit"/> in all).
    /// </summary>
    private bool TryTakeLine(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> text, out int used)
    {
        var window = data.Length > LineLimit - lineLength ? data[..(LineLimit - lineLength)] : data;
        if (lineLength > 0 && line[lineLength - 1] == '\r' && window.Length > 0 && window[0] == '\n')
        {
            text = line.AsSpan(0, lineLength - 1);
            used = 1;
            return true;
        }

        var end = window.IndexOf("\r\n"u8);
        if (end >= 0)
        {
            if (lineLength == 0)
            {
                text = window[..end];
            }
            else
            {
                window[..end].CopyTo(line.AsSpan(lineLength));
                text = line.AsSpan(0, lineLength + end);
            }

            used = end + 2;
            return true;
        }

        window.CopyTo(line.AsSpan(lineLength));
        lineLength += window.Length;
        used = window.Length;
        text = default;
        return false;
    }

    private HttpParseStatus ParseRequestLine(ReadOnlySpan<byte> text)
    {
        var firstSpace = text.IndexOf((byte)' ');
        var secondSpace = firstSpace < 0 ? -1 : text[(firstSpace + 1)..].IndexOf((byte)' ');
        if (secondSpace < 0)
        {
            return Fail("Invalid request.");
        }

        var methodText = text[..firstSpace];
        var targetText = text.Slice(firstSpace + 1, secondSpace);
        var versionText = text[(firstSpace + secondSpace + 2)..];

        if (!TryParseMethod(methodText, out method))
        {
            return Fail("Invalid HTTP Method: Unsupported HTTP method.");
        }

        if (targetText.IsEmpty)
        {
            return Fail("Invalid URI: Empty URI not allowed.");
        }

        if (RustUtf8.Describe(targetText) is not null)
        {
            return Fail("Invalid URI: Cannot parse URI as UTF-8.");
        }

        if (versionText.SequenceEqual("HTTP/1.1"u8))
        {
            version = HttpProtocolVersion.Http11;
        }
        else if (versionText.SequenceEqual("HTTP/1.0"u8))
        {
            version = HttpProtocolVersion.Http10;
        }
        else
        {
            return Fail("Invalid HTTP Version: Unsupported HTTP version.");
        }

        target = Encoding.UTF8.GetString(targetText);
        state = State.Headers;
        return HttpParseStatus.NeedMoreData;
    }

    private HttpParseStatus ParseHeaderLine(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return EndOfHeaders();
        }

        if (RustUtf8.Describe(text) is { } utf8Error)
        {
            return Fail("Invalid header. Reason: Header contains invalid characters. Key: " + utf8Error);
        }

        var colon = text.IndexOf((byte)':');
        if (colon < 0)
        {
            return Fail("Invalid header. Reason: Header is incorrectly formatted. Key: " + Encoding.UTF8.GetString(text));
        }

        var nameText = text[..colon];
        var valueText = text[(colon + 1)..];
        switch (HeaderNames.Identify(nameText))
        {
            case HeaderName.ContentLength:
                var value = Encoding.UTF8.GetString(valueText);
                if (!TryParseU32(value.AsSpan().Trim(), out contentLength))
                {
                    return Fail($"Invalid header. Reason: Invalid value. Key:{Encoding.UTF8.GetString(nameText)}; Value:{value}");
                }

                break;
            case HeaderName.Expect:
                if (Encoding.UTF8.GetString(valueText).Trim() == "100-continue")
                {
                    expectContinue = true;
                }

                break;
            case HeaderName.TransferEncoding:
                if (Encoding.UTF8.GetString(valueText).Trim() == "chunked")
                {
                    chunked = true;
                }

                break;
            case HeaderName.AcceptEncoding:
                return CheckAcceptEncoding(Encoding.UTF8.GetString(valueText).Trim());
        }

        // Content-Type, Accept, Server and unknown headers never invalidate a request.
        return HttpParseStatus.NeedMoreData;
    }

    /// <summary>The engine rejects an empty Accept-Encoding and one that refuses the identity encoding.</summary>
    private HttpParseStatus CheckAcceptEncoding(string value)
    {
        if (value.Length == 0)
        {
            return Fail("Invalid request.");
        }

        foreach (var encoding in value.Split(','))
        {
            var trimmed = encoding.Trim();
            if (trimmed == "identity;q=0" || (trimmed == "*;q=0" && !value.Contains("identity", StringComparison.Ordinal)))
            {
                return Fail($"Invalid header. Reason: Invalid value. Key:Accept-Encoding; Value:{encoding}");
            }
        }

        return HttpParseStatus.NeedMoreData;
    }

    private HttpParseStatus EndOfHeaders()
    {
        if (contentLength == 0)
        {
            state = State.Ready;
            return HttpParseStatus.RequestReady;
        }

        if (contentLength > MaxPayloadSize)
        {
            return Fail($"Request payload with size {contentLength} is larger than the limit of {MaxPayloadSize} allowed by server.");
        }

        body = new byte[contentLength];
        bodyFilled = 0;
        state = State.Body;
        return expectContinue ? HttpParseStatus.ContinueRequested : HttpParseStatus.NeedMoreData;
    }

    private HttpParseStatus Fail(string reason)
    {
        Error = reason;
        state = State.Failed;
        body = null;
        return HttpParseStatus.Failed;
    }

    private static bool TryParseMethod(ReadOnlySpan<byte> text, out HttpRequestMethod parsed)
    {
        parsed = text switch
        {
            _ when text.SequenceEqual("GET"u8) => HttpRequestMethod.Get,
            _ when text.SequenceEqual("PUT"u8) => HttpRequestMethod.Put,
            _ when text.SequenceEqual("PATCH"u8) => HttpRequestMethod.Patch,
            _ when text.SequenceEqual("DELETE"u8) => HttpRequestMethod.Delete,
            _ => (HttpRequestMethod)(-1),
        };
        return parsed >= 0;
    }

    /// <summary>Like Rust's u32::from_str: optional '+', at least one ASCII digit, no overflow.</summary>
    private static bool TryParseU32(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        if (text.Length > 0 && text[0] == '+')
        {
            text = text[1..];
        }

        if (text.IsEmpty)
        {
            return false;
        }

        ulong accumulated = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            accumulated = (accumulated * 10) + (ulong)(c - '0');
            if (accumulated > uint.MaxValue)
            {
                return false;
            }
        }

        value = (uint)accumulated;
        return true;
    }
}
