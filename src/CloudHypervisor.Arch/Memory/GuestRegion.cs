using CloudHypervisor.Sys;

namespace CloudHypervisor.Arch.Memory;

/// <summary>One contiguous range of guest-physical RAM backed by a host mapping.</summary>
public sealed class GuestRegion
{
    internal GuestRegion(ulong start, ulong size, nint host, SafeFd? backingFile, string? zone = null, GuestRegionBacking backing = default)
    {
        Start = start;
        Size = size;
        Host = host;
        BackingFile = backingFile;
        Zone = zone;
        FileOffset = backing.FileOffset;
        IsShared = backing.Shared;
        HugePages = backing.HugePages;
    }

    public ulong Start { get; }

    public ulong Size { get; }

    public ulong End => Start + Size;

    /// <summary>Host virtual address of <see cref="Start"/>.</summary>
    public nint Host { get; }

    /// <summary>The memfd or file behind the mapping, if any.</summary>
    public SafeFd? BackingFile { get; }

    /// <summary>Where in <see cref="BackingFile"/> the mapping of <see cref="Start"/> begins.</summary>
    public ulong FileOffset { get; }

    /// <summary>Whether the mapping is MAP_SHARED (a memfd or a shared `file=`): its pages live in the file.</summary>
    public bool IsShared { get; }

    /// <summary>Whether the region is backed by huge pages, which cannot be released 4 KiB at a time.</summary>
    public bool HugePages { get; }

    /// <summary>The id of the memory zone this region belongs to (`mem0` without `--memory-zone`).</summary>
    public string? Zone { get; }

    public bool Contains(ulong address) => address >= Start && address < End;
}

/// <summary>How a region's host mapping is backed, beyond its file: the offset in it, MAP_SHARED, huge pages.</summary>
public readonly record struct GuestRegionBacking(ulong FileOffset, bool Shared, bool HugePages);
