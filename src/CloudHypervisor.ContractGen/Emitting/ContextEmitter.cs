using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>
/// Emits <c>ContractsJsonContext</c>: compact output, nothing ignored by default (omission is
/// per property, as upstream's serde attributes say), nullable annotations enforced.
/// </summary>
public static class ContextEmitter
{
    public static void Emit(CodeWriter code, ApiDocument document)
    {
        code.Line("/// <summary>Source-generated (reflection-free) JSON metadata for every contract type.</summary>");
        code.Line("[JsonSourceGenerationOptions(");
        code.Line("    WriteIndented = false,");
        code.Line("    DefaultIgnoreCondition = JsonIgnoreCondition.Never,");
        code.Line("    RespectNullableAnnotations = true,");
        code.Line("    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]");
        foreach (var schema in document.Schemas)
        {
            code.Line($"[JsonSerializable(typeof({schema.Name}))]");
        }

        code.Line("[JsonSerializable(typeof(string[]))]");
        code.Line("[JsonSerializable(typeof(List<string>))]");
        code.Line("public sealed partial class ContractsJsonContext : JsonSerializerContext;");
    }
}
