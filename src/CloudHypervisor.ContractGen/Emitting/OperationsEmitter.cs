using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>Emits <c>ApiOperations</c>: one descriptor per path and method of the document.</summary>
public static class OperationsEmitter
{
    public static void Emit(CodeWriter code, ApiDocument document, CSharpTypes types)
    {
        code.Line("/// <summary>An operation of the API document. <see cref=\"Path\"/> is relative to <c>/api/v1</c>.</summary>");
        code.Line("public sealed record ApiOperation(");
        code.Line("    string Method,");
        code.Line("    string Path,");
        code.Line("    string? OperationId,");
        code.Line("    Type? RequestBody,");
        code.Line("    bool RequestBodyRequired,");
        code.Line("    IReadOnlyList<int> DocumentedStatusCodes);");
        code.Line();
        code.Line("/// <summary>Every operation of api/cloud-hypervisor.yaml, in document order.</summary>");
        using (code.Block("public static class ApiOperations"))
        {
            var names = new List<string>();
            foreach (var operation in document.Operations)
            {
                var name = Naming.Pascal(operation.Path);
                if (document.Operations.Count(o => o.Path == operation.Path) > 1)
                {
                    name += Naming.Pascal(operation.Method.ToLowerInvariant());
                }

                names.Add(name);
                var body = operation.RequestBody is null ? "null" : $"typeof({types.Name(operation.RequestBody)})";
                var operationId = operation.OperationId is null ? "null" : Naming.StringLiteral(operation.OperationId);
                var codes = string.Join(", ", operation.Responses.Select(r => r.StatusCode));
                code.Line($"public static ApiOperation {name} {{ get; }} = new({Naming.StringLiteral(operation.Method)}, " +
                    $"{Naming.StringLiteral(operation.Path)}, {operationId}, {body}, {(operation.RequestBodyRequired ? "true" : "false")}, [{codes}]);");
                code.Line();
            }

            code.Line($"public static IReadOnlyList<ApiOperation> All {{ get; }} = [{string.Join(", ", names)}];");
        }
    }
}
