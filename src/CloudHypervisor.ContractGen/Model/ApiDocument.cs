namespace CloudHypervisor.ContractGen.Model;

/// <summary>The parts of the OpenAPI document the generator turns into code.</summary>
public sealed record ApiDocument(IReadOnlyList<Operation> Operations, IReadOnlyList<Schema> Schemas)
{
    public Schema? FindSchema(string name) => Schemas.FirstOrDefault(s => s.Name == name);
}

/// <summary>One HTTP operation: <c>PUT /vm.create</c> and what it carries.</summary>
public sealed record Operation(
    string Path,
    string Method,
    string? OperationId,
    TypeRef? RequestBody,
    bool RequestBodyRequired,
    IReadOnlyList<OperationResponse> Responses);

public sealed record OperationResponse(int StatusCode, TypeRef? Body);
