namespace CloudHypervisor.Api.Client;

/// <summary>
/// A parsed API answer. <see cref="Body"/> holds every byte received after the headers when the
/// response had a Content-Length header, and is null when it had none (as upstream's client sees it).
/// </summary>
public sealed record ApiResponse(ulong StatusCode, byte[]? Body)
{
    public ApiStatusCode Status => ApiStatusCodes.FromCode(StatusCode);

    public bool IsSuccess => Status.IsSuccess();

    public string? BodyText => Body is null ? null : System.Text.Encoding.UTF8.GetString(Body);
}
