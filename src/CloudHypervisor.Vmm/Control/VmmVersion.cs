namespace CloudHypervisor.Vmm.Control;

/// <summary>The upstream release this VMM is a drop-in replacement for.</summary>
public static class VmmVersion
{
    public const string BuildVersion = "v54.0.0";

    public const string Version = "54.0.0";

    /// <summary>Build features reported by <c>vmm.ping</c>: only what this binary really has.</summary>
    public static IReadOnlyList<string> Features { get; } = ["kvm"];
}
