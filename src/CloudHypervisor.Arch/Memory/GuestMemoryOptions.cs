namespace CloudHypervisor.Arch.Memory;

/// <summary>How guest RAM is mapped on the host (the `--memory` toggles).</summary>
public sealed record GuestMemoryOptions
{
    public bool Shared { get; init; }

    public bool HugePages { get; init; }

    public ulong? HugePageSize { get; init; }

    public bool Prefault { get; init; }

    public bool Thp { get; init; } = true;

    public bool Mergeable { get; init; }
}
