using CloudHypervisor.Api.Http;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Api.Server;

/// <summary>The HTTP API on <c>--api-socket path=</c> (locked, stale file replaced) or <c>fd=</c> (already listening).</summary>
public sealed class ApiServer : IDisposable
{
    private readonly UnixSocketListener listener;
    private readonly HttpServer server;

    private ApiServer(UnixSocketListener listener, IHttpRequestHandler handler, Action? threadStarted)
    {
        this.listener = listener;
        server = new HttpServer(listener, handler, new HttpServerOptions { ThreadStarted = threadStarted }, ownsListener: false);
    }

    /// <summary>Binds (or adopts) the socket, which accepts connections from now on; requests are served once <see cref="Start"/> ran.</summary>
    /// <param name="threadStarted">Runs first on the server thread (the Landlock confinement of <c>--landlock</c>).</param>
    public static ApiServer Open(string? path, int? fd, IHttpRequestHandler handler, Action? threadStarted = null)
    {
        var listener = fd is { } descriptor ? ApiSocket.Adopt(descriptor) : ApiSocket.Listen(path!);
        try
        {
            return new ApiServer(listener, handler, threadStarted);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Starts the thread that serves the socket.</summary>
    public void Start() => server.Start();

    /// <summary>Lets queued responses go out, closes every connection and, on a clean exit, removes the socket file.</summary>
    public void Stop(bool removeSocketFile)
    {
        server.Stop();
        if (removeSocketFile)
        {
            listener.RemoveSocketFile();
        }
    }

    public void Dispose()
    {
        server.Dispose();
        listener.Dispose();
    }
}
