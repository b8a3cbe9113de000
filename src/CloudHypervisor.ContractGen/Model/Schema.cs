namespace CloudHypervisor.ContractGen.Model;

public enum SchemaKind
{
    /// <summary>A JSON object with named properties: a sealed class.</summary>
    Object,
    /// <summary>A string with a fixed set of values: a C# enum plus its converter.</summary>
    StringEnum,
    /// <summary>An object holding only additionalProperties: a dictionary type.</summary>
    Map,
}

/// <summary>A named schema under components/schemas.</summary>
public sealed record Schema(
    string Name,
    SchemaKind Kind,
    string? Description,
    IReadOnlyList<Property> Properties,
    IReadOnlyList<string> EnumValues,
    string? EnumDefault,
    TypeRef? MapValue,
    bool DenyUnknownFields);
