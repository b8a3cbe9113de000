using System.Runtime.InteropServices;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Balloon;

/// <summary>What became of a request to release or prefetch a guest range.</summary>
public enum BalloonMemoryResult
{
    Done,

    /// <summary>The range is not wholly inside one guest RAM region: nothing was touched.</summary>
    OutsideRam,

    /// <summary>Huge-page-backed RAM cannot be given back 4 KiB at a time; the range stays allocated.</summary>
    HugePages,

    /// <summary>fallocate or madvise failed; the error number is returned alongside.</summary>
    Failed,
}

/// <summary>
/// Gives guest pages back to the host, as upstream: a shared (memfd or file) mapping has the range
/// punched out of its file (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE) and then dropped with MADV_DONTNEED;
/// private anonymous memory is dropped with MADV_DONTNEED alone. The guest reads zeroes there next.
/// Every range is checked to lie inside one guest RAM region first, so a guest-supplied address
/// never reaches a host mapping outside guest memory.
/// </summary>
public static class BalloonMemory
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;

    /// <summary>Releases [address, address+length); <paramref name="errno"/> is set on <see cref="BalloonMemoryResult.Failed"/>.</summary>
    public static BalloonMemoryResult Release(GuestMemory memory, ulong address, ulong length, out int errno)
    {
        errno = 0;
        if (Find(memory, address, length) is not { } region)
        {
            return BalloonMemoryResult.OutsideRam;
        }

        if (region.HugePages)
        {
            return BalloonMemoryResult.HugePages;
        }

        var offset = address - region.Start;

        // A private mapping of a user's file keeps the file untouched (the mapping promises that):
        // only its copied pages are dropped.
        if (region.IsShared && region.BackingFile is { } file
            && Libc.Fallocate(file.Fd, Libc.FallocFlPunchHole | Libc.FallocFlKeepSize, (long)(region.FileOffset + offset), (long)length) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return BalloonMemoryResult.Failed;
        }

        return Advise(region, offset, length, Libc.MadvDontNeed, out errno);
    }

    /// <summary>Tells the host the range will be used again soon (MADV_WILLNEED), as upstream does on deflate.</summary>
    public static BalloonMemoryResult Prefetch(GuestMemory memory, ulong address, ulong length, out int errno)
    {
        errno = 0;
        if (Find(memory, address, length) is not { } region)
        {
            return BalloonMemoryResult.OutsideRam;
        }

        return region.HugePages ? BalloonMemoryResult.HugePages : Advise(region, address - region.Start, length, Libc.MadvWillNeed, out errno);
    }

    /// <summary>The region holding all of [address, address+length), or null.</summary>
    public static GuestRegion? Find(GuestMemory memory, ulong address, ulong length)
    {
        var region = memory.FindRegion(address);
        return region is not null && length <= region.End - address ? region : null;
    }

    private static BalloonMemoryResult Advise(GuestRegion region, ulong offset, ulong length, int advice, out int errno)
    {
        errno = 0;
        if (Libc.Madvise(region.Host + (nint)offset, (nuint)length, advice) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return BalloonMemoryResult.Failed;
        }

        return BalloonMemoryResult.Done;
    }
}
