using System.Text;

namespace CloudHypervisor.Api.Http;

/// <summary>The request headers the engine interprets.</summary>
internal enum HeaderName
{
    Other,
    ContentLength,
    ContentType,
    Expect,
    TransferEncoding,
    Server,
    Accept,
    AcceptEncoding,
}

internal static class HeaderNames
{
    /// <summary>Matches a header name case-insensitively (ASCII) after trimming whitespace, as upstream does.</summary>
    public static HeaderName Identify(ReadOnlySpan<byte> name)
    {
        var trimmed = name.Trim(" \t\n\v\f\r"u8);
        if (!Ascii.IsValid(name))
        {
            // Only Unicode whitespace around an ASCII name can still match; the slow path handles it.
            var decoded = Encoding.UTF8.GetString(name).Trim();
            return Ascii.IsValid(decoded) ? Identify(Encoding.ASCII.GetBytes(decoded)) : HeaderName.Other;
        }

        return trimmed.Length switch
        {
            6 when Ascii.EqualsIgnoreCase(trimmed, "expect"u8) => HeaderName.Expect,
            6 when Ascii.EqualsIgnoreCase(trimmed, "server"u8) => HeaderName.Server,
            6 when Ascii.EqualsIgnoreCase(trimmed, "accept"u8) => HeaderName.Accept,
            12 when Ascii.EqualsIgnoreCase(trimmed, "content-type"u8) => HeaderName.ContentType,
            14 when Ascii.EqualsIgnoreCase(trimmed, "content-length"u8) => HeaderName.ContentLength,
            15 when Ascii.EqualsIgnoreCase(trimmed, "accept-encoding"u8) => HeaderName.AcceptEncoding,
            17 when Ascii.EqualsIgnoreCase(trimmed, "transfer-encoding"u8) => HeaderName.TransferEncoding,
            _ => HeaderName.Other,
        };
    }
}
