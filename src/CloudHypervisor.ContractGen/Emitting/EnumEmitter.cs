using CloudHypervisor.ContractGen.Model;

namespace CloudHypervisor.ContractGen.Emitting;

/// <summary>
/// Emits a string enum as a C# enum, a static class mapping members to their exact wire
/// spellings, and a strict (case-sensitive, strings only) AOT-safe JSON converter.
/// </summary>
public static class EnumEmitter
{
    public static void Emit(CodeWriter code, Schema schema)
    {
        var name = schema.Name;
        var members = schema.EnumValues.Select(v => (Wire: v, Member: Naming.Pascal(v))).ToList();

        code.Summary(schema.Description);
        code.Line($"[JsonConverter(typeof({name}JsonConverter))]");
        using (code.Block($"public enum {name}"))
        {
            foreach (var (wire, member) in members)
            {
                code.Line($"/// <summary>Wire value <c>{Naming.XmlEscape(wire)}</c>.</summary>");
                code.Line($"{member},");
            }
        }

        code.Line();
        code.Line($"/// <summary>The exact JSON spellings of <see cref=\"{name}\"/>.</summary>");
        using (code.Block($"public static class {name}Wire"))
        {
            code.Line("/// <summary>Every wire value, in document order.</summary>");
            code.Line($"public static IReadOnlyList<string> Values {{ get; }} = [{string.Join(", ", members.Select(m => Naming.StringLiteral(m.Wire)))}];");
            code.Line();
            code.Line($"public static string ToWire(this {name} value) => value switch");
            code.Line("{");
            foreach (var (wire, member) in members)
            {
                code.Line($"    {name}.{member} => {Naming.StringLiteral(wire)},");
            }

            code.Line($"    _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),");
            code.Line("};");
            code.Line();
            code.Line("/// <summary>Exact, case-sensitive match of a wire value.</summary>");
            using (code.Block($"public static bool TryParse(string? wire, out {name} value)"))
            {
                using (code.Block("switch (wire)"))
                {
                    foreach (var (wire, member) in members)
                    {
                        code.Line($"case {Naming.StringLiteral(wire)}: value = {name}.{member}; return true;");
                    }

                    code.Line("default: value = default; return false;");
                }
            }
        }

        code.Line();
        using (code.Block($"public sealed class {name}JsonConverter : JsonConverter<{name}>"))
        {
            using (code.Block($"public override {name} Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)"))
            {
                code.Line($"var wire = CloudHypervisor.Contracts.Json.SerdeErrors.ReadVariantName(ref reader);");
                code.Line($"return {name}Wire.TryParse(wire, out var value)");
                code.Line("    ? value");
                code.Line($"    : throw CloudHypervisor.Contracts.Json.SerdeErrors.UnknownVariant(wire, {name}Wire.Values);");
            }

            code.Line();
            code.Line($"public override void Write(Utf8JsonWriter writer, {name} value, JsonSerializerOptions options) =>");
            code.Line("    writer.WriteStringValue(value.ToWire());");
        }
    }
}
