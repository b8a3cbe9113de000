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
/// <param name="DefaultFactory">
/// A static C# method (x-ch-default-factory) whose result is the default, for defaults that are
/// not constants (a random MAC address).
/// </param>
/// <param name="CargoFeature">
/// The upstream cargo feature (x-ch-cargo-feature) without which upstream's build has no such
/// field: the default build neither reads nor writes it, so the property is ignored both ways.
/// </param>
public sealed record Property(
    string WireName,
    TypeRef Type,
    bool Required,
    object? Default,
    string? Description,
    OmitRule Omit,
    string? AliasOf,
    bool IsFileDescriptor,
    string? DefaultFactory = null,
    string? CargoFeature = null)
{
    public bool HasDefault => Default is not null || DefaultFactory is not null;
}
