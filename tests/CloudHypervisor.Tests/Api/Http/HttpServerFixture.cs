using System.Collections.Concurrent;
using System.Text;
using CloudHypervisor.Api.Http;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>A started <see cref="HttpServer"/> on a fresh socket path in its own temporary directory.</summary>
internal sealed class HttpServerFixture : IDisposable
{
    public const string PingPath = "/api/v1/vmm.ping";
    public const string PingBody = "{\"build_version\":\"v54.0.0\",\"version\":\"54.0.0\",\"pid\":1,\"features\":[\"kvm\"]}";
    public const string PingRequest = "GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";

    public static readonly string PingResponse =
        "HTTP/1.1 200 \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
        + $"Content-Length: {PingBody.Length}\r\n\r\n{PingBody}";

    public HttpServerFixture(HttpServerOptions? options = null, Func<HttpRequest, HttpResponse>? respond = null)
    {
        Directory = Path.Combine(Path.GetTempPath(), "ch-http-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        SocketPath = Path.Combine(Directory, "api.sock");
        Handler = new RecordingHandler(respond);
        Server = new HttpServer(ApiSocket.Listen(SocketPath), Handler, options);
        Server.Start();
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public RecordingHandler Handler { get; }

    public HttpServer Server { get; }

    public HttpTestClient Connect(int receiveTimeoutMs = 10_000) => new(SocketPath, receiveTimeoutMs);

    /// <summary>Waits until the server thread has registered the expected number of connections.</summary>
    public void WaitForConnections(int count)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (Server.ConnectionCount != count)
        {
            Assert.True(Environment.TickCount64 < deadline, $"expected {count} connections, have {Server.ConnectionCount}");
            Thread.Sleep(2);
        }
    }

    public void Dispose()
    {
        Server.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Answers vmm.ping like the VMM, 404s everything else, and records what it saw.</summary>
    internal sealed class RecordingHandler(Func<HttpRequest, HttpResponse>? respond) : IHttpRequestHandler
    {
        private int count;

        public ConcurrentQueue<string> Seen { get; } = new();

        public int Count => Volatile.Read(ref count);

        public HttpResponse Handle(HttpRequest request)
        {
            Interlocked.Increment(ref count);
            Seen.Enqueue($"{request.Method.ToString().ToUpperInvariant()} {request.Target} {(request.Body is null ? "-" : Encoding.UTF8.GetString(request.Body))}");
            if (respond is not null)
            {
                return respond(request);
            }

            return request.Path == PingPath && request.Method == HttpRequestMethod.Get
                ? HttpResponse.Ok(Encoding.UTF8.GetBytes(PingBody))
                : HttpResponse.NotFound();
        }
    }
}
