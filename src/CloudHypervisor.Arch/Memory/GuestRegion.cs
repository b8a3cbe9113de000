using CloudHypervisor.Sys;

namespace CloudHypervisor.Arch.Memory;

/// <summary>One contiguous range of guest-physical RAM backed by a host mapping.</summary>
public sealed class GuestRegion
{
    internal GuestRegion(ulong start, ulong size, nint host, SafeFd? backingFile, string? zone = null)
    {
        Start = start;
        Size = size;
        Host = host;
        BackingFile = backingFile;
        Zone = zone;
    }

    public ulong Start { get; }

    public ulong Size { get; }

    public ulong End => Start + Size;

    /// <summary>Host virtual address of <see cref="Start"/>.</summary>
    public nint Host { get; }

    /// <summary>The memfd or file behind the mapping, if any.</summary>
    public SafeFd? BackingFile { get; }

    /// <summary>The id of the memory zone this region belongs to (`mem0` without `--memory-zone`).</summary>
    public string? Zone { get; }

    public bool Contains(ulong address) => address >= Start && address < End;
}
