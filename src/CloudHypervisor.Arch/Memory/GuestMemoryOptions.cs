namespace CloudHypervisor.Arch.Memory;

/// <summary>How one range of guest RAM is mapped on the host (the `--memory` / `--memory-zone` toggles).</summary>
public sealed record GuestMemoryOptions
{
    public bool Shared { get; init; }

    public bool HugePages { get; init; }

    public ulong? HugePageSize { get; init; }

    public bool Prefault { get; init; }

    public bool Thp { get; init; } = true;

    public bool Mergeable { get; init; }

    /// <summary>An existing file to map instead of anonymous memory or a memfd (`file=`).</summary>
    public string? BackingFile { get; init; }

    /// <summary>The host NUMA node the range is bound to with mbind(MPOL_BIND).</summary>
    public uint? HostNumaNode { get; init; }
}
