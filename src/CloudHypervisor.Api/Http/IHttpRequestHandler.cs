namespace CloudHypervisor.Api.Http;

/// <summary>
/// Answers one request. Called on the http-server thread, one request at a time and in the order
/// the requests arrived; while it runs no other connection is served. The server disposes the
/// request afterwards, closing any received descriptors the handler did not take.
/// </summary>
public interface IHttpRequestHandler
{
    HttpResponse Handle(HttpRequest request);
}
