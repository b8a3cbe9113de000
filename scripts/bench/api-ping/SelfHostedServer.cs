using System.Text;
using CloudHypervisor.Api.Http;

namespace ApiPingBench;

/// <summary>The project's HTTP engine with a ping-only handler, for measuring the engine without a VMM.</summary>
internal sealed class SelfHostedServer : IDisposable, IHttpRequestHandler
{
    private static readonly byte[] PingBody = Encoding.UTF8.GetBytes("{\"build_version\":\"v54.0.0\",\"version\":\"54.0.0\",\"pid\":1,\"features\":[\"kvm\",\"io_uring\"]}");
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("api-ping-bench-");
    private readonly HttpServer server;

    public SelfHostedServer()
    {
        SocketPath = Path.Combine(directory.FullName, "api.sock");
        server = new HttpServer(ApiSocket.Listen(SocketPath), this);
        server.Start();
    }

    public string SocketPath { get; }

    public HttpResponse Handle(HttpRequest request) =>
        request.Path == "/api/v1/vmm.ping" ? HttpResponse.Ok(PingBody) : HttpResponse.Error(500, "Error from API", "The VM info is not available", "VM is not created");

    public void Dispose()
    {
        server.Dispose();
        directory.Delete(recursive: true);
    }
}
