namespace CloudHypervisor.Api.Http;

/// <summary>The methods the HTTP engine accepts (case-sensitive); anything else is a parse error.</summary>
public enum HttpRequestMethod
{
    Get,
    Put,
    Patch,
    Delete,
}
