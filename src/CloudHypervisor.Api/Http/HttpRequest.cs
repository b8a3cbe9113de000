using CloudHypervisor.Sys;

namespace CloudHypervisor.Api.Http;

/// <summary>
/// One parsed request. Owns the descriptors that arrived (SCM_RIGHTS) while it was being received:
/// take them with <see cref="TakeFiles"/>; whatever is not taken is closed on <see cref="Dispose"/>.
/// </summary>
public sealed class HttpRequest : IDisposable
{
    private SafeFd[] files;
    private string? path;

    public HttpRequest(HttpRequestMethod method, string target, HttpProtocolVersion version, byte[]? body, SafeFd[]? files = null)
    {
        Method = method;
        Target = target;
        Version = version;
        Body = body;
        this.files = files ?? [];
    }

    public HttpRequestMethod Method { get; }

    /// <summary>The request-target exactly as sent (origin-form or absolute-form).</summary>
    public string Target { get; }

    public HttpProtocolVersion Version { get; }

    /// <summary>
    /// The absolute path the router matches: the target itself when it starts with '/', the part from
    /// the first '/' after "http://host" for absolute-form, otherwise empty. The query string is kept
    /// (so "/api/v1/vmm.ping?x" matches nothing).
    /// </summary>
    public string Path => path ??= AbsolutePath(Target);

    /// <summary>The body, or null when Content-Length was absent or 0.</summary>
    public byte[]? Body { get; }

    /// <summary>Header "Expect: 100-continue" was present.</summary>
    public bool ExpectContinue { get; init; }

    /// <summary>Header "Transfer-Encoding: chunked" was present (recorded only; bodies are never de-chunked).</summary>
    public bool Chunked { get; init; }

    /// <summary>Number of descriptors still owned by the request.</summary>
    public int FileCount => files.Length;

    /// <summary>Hands the received descriptors to the caller, who must dispose them.</summary>
    public SafeFd[] TakeFiles()
    {
        var taken = files;
        files = [];
        return taken;
    }

    public void Dispose()
    {
        foreach (var file in TakeFiles())
        {
            file.Dispose();
        }
    }

    internal static string AbsolutePath(string target)
    {
        const string scheme = "http://";
        if (target.StartsWith(scheme, StringComparison.Ordinal))
        {
            var slash = target.IndexOf('/', scheme.Length);
            return slash < 0 ? string.Empty : target[slash..];
        }

        return target.StartsWith('/') ? target : string.Empty;
    }
}
