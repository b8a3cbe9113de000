namespace CloudHypervisor.Arch.Smbios;

/// <summary>
/// The `--platform` values that reach the SMBIOS tables. Null means "not given": the system manufacturer and
/// product name then fall back to upstream's defaults, every other field is left out.
/// </summary>
public sealed record SmbiosPlatform
{
    public const string DefaultSystemManufacturer = "Cloud Hypervisor";
    public const string DefaultSystemProductName = "cloud-hypervisor";

    public string? SystemManufacturer { get; init; }

    public string? SystemProductName { get; init; }

    public string? SystemVersion { get; init; }

    public string? SystemSerialNumber { get; init; }

    /// <summary>Text form as the user gave it; parsed at write time like upstream (any format the Rust uuid crate accepts).</summary>
    public string? SystemUuid { get; init; }

    public string? SystemSkuNumber { get; init; }

    public string? SystemFamily { get; init; }

    /// <summary>When set, a type 3 (chassis) structure carrying it is written.</summary>
    public string? ChassisAssetTag { get; init; }

    /// <summary>When non-empty, a type 11 (OEM strings) structure carrying them is written.</summary>
    public IReadOnlyList<string> OemStrings { get; init; } = [];
}
