namespace CloudHypervisor.ContractGen.Model;

/// <summary>When a property is left out of serialized JSON (serde's skip_serializing_if).</summary>
public enum OmitRule
{
    /// <summary>Always written; an absent optional value is written as <c>null</c>.</summary>
    Never,
    /// <summary>Left out when null (serde_with::skip_serializing_none / Option::is_none).</summary>
    WhenNull,
    /// <summary>Left out when false (a bool skipped by <c>Not::not</c>).</summary>
    WhenFalse,
}

/// <summary>One property of an object schema, in wire order.</summary>
public sealed record Property(
    string WireName,
    TypeRef Type,
    bool Required,
    object? Default,
    string? Description,
    OmitRule Omit,
    string? AliasOf,
    bool IsFileDescriptor);
