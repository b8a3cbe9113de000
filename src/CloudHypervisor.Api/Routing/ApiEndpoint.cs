namespace CloudHypervisor.Api.Routing;

/// <summary>Which methods a route answers, which decides upstream's wrong-method replies.</summary>
internal enum EndpointKind
{
    /// <summary><c>vm.info</c>, <c>vmm.ping</c>.</summary>
    Get,

    /// <summary><c>vm.create</c>, <c>vmm.shutdown</c>.</summary>
    Put,

    /// <summary><c>vm.counters</c>: GET, but PATCH/DELETE get an empty 400 like actions.</summary>
    Counters,

    /// <summary>Every other <c>vm.*</c> action (PUT).</summary>
    Action,
}

internal enum BodyRule
{
    /// <summary>A body is a 400.</summary>
    Forbidden,

    /// <summary>No body is a 400.</summary>
    Required,

    /// <summary>A body is read past and ignored.</summary>
    Ignored,
}

internal sealed record ApiEndpoint(string Name, EndpointKind Kind, BodyRule Body, bool TakesFds, Func<ApiCall, Http.HttpResponse> Handler);
