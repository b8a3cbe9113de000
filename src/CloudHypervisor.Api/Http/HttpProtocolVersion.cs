namespace CloudHypervisor.Api.Http;

/// <summary>The request versions the HTTP engine accepts; responses always say HTTP/1.1.</summary>
public enum HttpProtocolVersion
{
    Http10,
    Http11,
}
