using CloudHypervisor.Sys;

namespace CloudHypervisor.Arch.Memory;

/// <summary>One contiguous range of guest-physical RAM backed by a host mapping.</summary>
public sealed class GuestRegion
{
    internal GuestRegion(ulong start, ulong size, nint host, SafeFd? backingFile)
    {
        Start = start;
        Size = size;
        Host = host;
        BackingFile = backingFile;
    }

    public ulong Start { get; }

    public ulong Size { get; }

    public ulong End => Start + Size;

    /// <summary>Host virtual address of <see cref="Start"/>.</summary>
    public nint Host { get; }

    /// <summary>The memfd or file behind a shared mapping, if any.</summary>
    public SafeFd? BackingFile { get; }

    public bool Contains(ulong address) => address >= Start && address < End;
}
