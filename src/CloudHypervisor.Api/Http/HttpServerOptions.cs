namespace CloudHypervisor.Api.Http;

public sealed record HttpServerOptions
{
    /// <summary>Concurrent connections served; one more receives the 503 "Too many open connections" and is closed.</summary>
    public int MaxConnections { get; init; } = 10;

    /// <summary>
    /// A connection that has sent part of a request, or has an unsent response, and makes no progress
    /// for this long is closed, so a stalled client cannot hold a connection slot forever. A connection
    /// idle between requests is kept open indefinitely, as upstream does.
    /// </summary>
    public TimeSpan StalledConnectionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string ThreadName { get; init; } = "http-server";

    /// <summary>Runs first on the server thread (e.g. to confine it with Landlock).</summary>
    public Action? ThreadStarted { get; init; }
}
