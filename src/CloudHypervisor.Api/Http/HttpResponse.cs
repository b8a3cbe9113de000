using System.Text;

namespace CloudHypervisor.Api.Http;

/// <summary>
/// A response as the HTTP engine serialises it (see <see cref="HttpResponseWriter"/>): status line
/// without reason phrase, Server and Connection headers, then Content-Type and Content-Length unless
/// the status is 100 or 204.
/// </summary>
public sealed class HttpResponse
{
    /// <summary>The Server header of every response the API router produces.</summary>
    public const string ApiServerName = "Cloud Hypervisor API";

    /// <summary>The Server header of responses the engine makes itself (parse errors, 100 Continue).</summary>
    public const string EngineServerName = "Firecracker API";

    public HttpResponse(int statusCode, byte[]? body = null, string server = ApiServerName)
    {
        if (statusCode is < 100 or > 999)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "HTTP status codes have three digits");
        }

        StatusCode = statusCode;
        Body = body;
        Server = server;
    }

    public int StatusCode { get; }

    /// <summary>The body bytes (JSON for the API); null or empty means "Content-Length: 0".</summary>
    public byte[]? Body { get; }

    public string Server { get; }

    /// <summary>Send "Connection: close" and close the connection once this response is written.</summary>
    public bool CloseConnection { get; init; }

    /// <summary>200 with a JSON body.</summary>
    public static HttpResponse Ok(byte[] json) => new(200, json);

    /// <summary>A status with an empty body ("Content-Length: 0", or nothing at all for 204).</summary>
    public static HttpResponse Empty(int statusCode) => new(statusCode);

    public static HttpResponse NoContent() => new(204);

    /// <summary>
    /// An API error: the body is the compact JSON array of the error chain, outermost first, e.g.
    /// <c>["Error from API","The VM info is not available","VM is not created"]</c>.
    /// </summary>
    public static HttpResponse Error(int statusCode, IReadOnlyList<string> chain) => new(statusCode, JsonStringArray.Encode(chain));

    /// <inheritdoc cref="Error(int, IReadOnlyList{string})"/>
    public static HttpResponse Error(int statusCode, params string[] chain) => Error(statusCode, (IReadOnlyList<string>)chain);

    /// <summary>400 <c>["Bad Request"]</c>.</summary>
    public static HttpResponse BadRequest() => Error(400, "Bad Request");

    /// <summary>404 <c>["Not Found"]</c>.</summary>
    public static HttpResponse NotFound() => Error(404, "Not Found");

    /// <summary>The engine's own 400 for a request it could not parse; the body is deliberately not valid JSON.</summary>
    internal static HttpResponse ParseError(string reason) =>
        new(400, Encoding.UTF8.GetBytes($"{{ \"error\": \"{reason}\nAll previous unanswered requests will be dropped.\" }}"), EngineServerName);

    public override string ToString() => $"{StatusCode} ({Body?.Length ?? 0} body bytes)";
}
