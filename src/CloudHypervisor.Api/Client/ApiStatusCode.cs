namespace CloudHypervisor.Api.Client;

/// <summary>The HTTP statuses ch-remote tells apart, named as upstream's api_client prints them.</summary>
public enum ApiStatusCode
{
    Continue,
    Ok,
    NoContent,
    BadRequest,
    NotFound,
    TooManyRequests,
    InternalServerError,
    NotImplemented,

    /// <summary>Every other code (405, 409, 503, ...).</summary>
    Unknown,
}

public static class ApiStatusCodes
{
    public static ApiStatusCode FromCode(ulong code) => code switch
    {
        100 => ApiStatusCode.Continue,
        200 => ApiStatusCode.Ok,
        204 => ApiStatusCode.NoContent,
        400 => ApiStatusCode.BadRequest,
        404 => ApiStatusCode.NotFound,
        429 => ApiStatusCode.TooManyRequests,
        500 => ApiStatusCode.InternalServerError,
        501 => ApiStatusCode.NotImplemented,
        _ => ApiStatusCode.Unknown,
    };

    /// <summary>100, 200 and 204 are successes; everything else is reported as a server error.</summary>
    public static bool IsSuccess(this ApiStatusCode status) =>
        status is ApiStatusCode.Continue or ApiStatusCode.Ok or ApiStatusCode.NoContent;
}
