using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config;

namespace CloudHypervisor.Api.Client;

/// <summary>What went wrong talking to the API server (upstream api_client's error variants).</summary>
public enum ApiClientErrorKind
{
    /// <summary>A write or read on the connected socket failed.</summary>
    Socket,

    /// <summary>The sendmsg carrying the request line (and its descriptors) failed.</summary>
    SocketSendFds,
    StatusCodeParsing,
    MissingProtocol,
    ContentLengthParsing,

    /// <summary>The server answered with a status other than 100, 200 or 204.</summary>
    ServerResponse,
}

/// <summary>
/// A failed API call. The cause chain is the InnerException (an <see cref="OsException"/> or an
/// <see cref="IntegerParseException"/>); server answers are <see cref="ApiServerException"/>.
/// </summary>
public class ApiClientException : ChainedException
{
    protected ApiClientException(ApiClientErrorKind kind, string message, Exception? cause)
        : base(message, cause)
    {
        Kind = kind;
    }

    public ApiClientErrorKind Kind { get; }

    public static ApiClientException Socket(OsException cause) =>
        new(ApiClientErrorKind.Socket, "Error writing to or reading from HTTP socket", cause);

    public static ApiClientException SendFds(OsException cause) =>
        new(ApiClientErrorKind.SocketSendFds, "Error sending file descriptors", cause);

    public static ApiClientException StatusCodeParse(IntegerParseException cause) =>
        new(ApiClientErrorKind.StatusCodeParsing, "Error parsing HTTP status code", cause);

    public static ApiClientException MissingProtocol() =>
        new(ApiClientErrorKind.MissingProtocol, "HTTP output is missing protocol statement", null);

    public static ApiClientException ContentLengthParse(IntegerParseException cause) =>
        new(ApiClientErrorKind.ContentLengthParsing, "Error parsing HTTP Content-Length field", cause);
}

/// <summary>
/// The server answered with an error status. <see cref="Body"/> is the raw body (null when the
/// response had no Content-Length), normally a JSON array of messages, outermost first.
/// </summary>
public sealed class ApiServerException : ApiClientException
{
    public ApiServerException(ulong statusCode, string? body)
        : base(ApiClientErrorKind.ServerResponse, Describe(ApiStatusCodes.FromCode(statusCode), body), null)
    {
        StatusCode = statusCode;
        Status = ApiStatusCodes.FromCode(statusCode);
        Body = body;
    }

    /// <summary>The numeric status, e.g. 409 (which <see cref="Status"/> calls Unknown).</summary>
    public ulong StatusCode { get; }

    public ApiStatusCode Status { get; }

    public string? Body { get; }

    /// <summary>The server's error chain when the body is a JSON array of strings, else null.</summary>
    public IReadOnlyList<string>? ServerChain => SerdeStringArray.TryParse(Body ?? string.Empty, out var lines, out _) ? lines : null;

    // upstream: "Server responded with error {status:?}: {body:?}"
    private static string Describe(ApiStatusCode status, string? body) =>
        $"Server responded with error {status}: {(body is null ? "None" : $"Some({RustDebug.Quote(body)})")}";
}
