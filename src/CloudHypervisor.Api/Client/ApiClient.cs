using System.Text;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client;

/// <summary>
/// A client of the Cloud Hypervisor REST API over a Unix socket, encoding requests byte for byte
/// like upstream's api_client: the request line and first headers go in one sendmsg carrying every
/// descriptor as a single SCM_RIGHTS message, then "Content-Length: n\r\n" (only with a body), the
/// blank line, and the body. No Content-Type header is sent.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly IApiConnection connection;

    public ApiClient(IApiConnection connection)
    {
        this.connection = connection;
    }

    /// <summary>Connects to the API socket at <paramref name="socketPath"/> (throws <see cref="OsException"/> or <see cref="IoMessageException"/>).</summary>
    public static ApiClient Connect(string socketPath) => new(UnixApiConnection.Connect(socketPath));

    /// <summary>The exact bytes of the first chunk: "&lt;METHOD&gt; /api/v1/&lt;command&gt; HTTP/1.1", Host and Accept.</summary>
    public static byte[] RequestHead(string method, string fullCommand) =>
        Encoding.UTF8.GetBytes($"{method} /api/v1/{fullCommand} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n");

    /// <summary>
    /// Sends one request and reads the answer whatever its status. <paramref name="fullCommand"/> is
    /// e.g. "vm.info" or "vmm.ping". Throws <see cref="ApiClientException"/> for socket and protocol
    /// failures only.
    /// </summary>
    public ApiResponse Send(string method, string fullCommand, byte[]? body = null, ReadOnlySpan<int> fds = default)
    {
        try
        {
            if (fds.Length > Sys.Interop.Libc.MaxFdsPerMessage)
            {
                throw new OsException(22); // EINVAL, the kernel's answer to more than SCM_MAX_FD descriptors.
            }

            connection.SendWithFds(RequestHead(method, fullCommand), fds);
        }
        catch (OsException e)
        {
            throw ApiClientException.SendFds(e);
        }

        try
        {
            if (body is not null)
            {
                connection.Write(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n"));
            }

            connection.Write("\r\n"u8);
            if (body is not null)
            {
                connection.Write(body);
            }
        }
        catch (OsException e)
        {
            throw ApiClientException.Socket(e);
        }

        return HttpResponseReader.Read(connection);
    }

    /// <inheritdoc cref="Send(string, string, byte[], ReadOnlySpan{int})"/>
    public ApiResponse Send(string method, string fullCommand, string? body, ReadOnlySpan<int> fds = default) =>
        Send(method, fullCommand, body is null ? null : Encoding.UTF8.GetBytes(body), fds);

    /// <summary>
    /// Sends one request and returns the body (null when the answer had no Content-Length);
    /// an error status throws <see cref="ApiServerException"/> carrying the server's error chain.
    /// </summary>
    public string? Call(string method, string fullCommand, string? body = null, ReadOnlySpan<int> fds = default)
    {
        var response = Send(method, fullCommand, body, fds);
        return response.IsSuccess ? response.BodyText : throw new ApiServerException(response.StatusCode, response.BodyText);
    }

    /// <summary><see cref="Call"/> for a VM action: "vm.&lt;action&gt;".</summary>
    public string? VmCall(string method, string action, string? body = null, ReadOnlySpan<int> fds = default) =>
        Call(method, "vm." + action, body, fds);

    /// <summary>GET vmm.ping.</summary>
    public string? Ping() => Call("GET", "vmm.ping");

    /// <summary>GET vm.info.</summary>
    public string? Info() => VmCall("GET", "info");

    public void Dispose() => connection.Dispose();
}
