using System.Numerics;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Arch.Memory;

/// <summary>
/// Creates the host mapping behind one guest RAM region, as upstream backs it: a `file=` mapping
/// (shared or private), a memfd for shared or huge-page memory (always MAP_SHARED, so huge pages
/// are never copied on write), or private anonymous memory; then the host NUMA binding, prefault,
/// THP and KSM advice.
/// </summary>
internal static class GuestRegionMapper
{
    public static GuestRegion Map(GuestRegionRequest request)
    {
        var (start, size, options, fileOffset, zone) = request;
        var file = OpenBacking(options, size, fileOffset, out var offset);
        var flags = Libc.MapNoReserve;
        var shared = false;
        if (file is null)
        {
            flags |= Libc.MapPrivate | Libc.MapAnonymous;
        }
        else
        {
            shared = options.BackingFile is null || options.Shared;
            flags |= shared ? Libc.MapShared : Libc.MapPrivate;
        }

        var host = Libc.Mmap(0, (nuint)size, Libc.ProtRead | Libc.ProtWrite, flags, file?.Fd ?? -1, (long)offset);
        if (host == Libc.MapFailed)
        {
            var error = OsException.Last();
            file?.Dispose();
            throw new GuestMemoryException("Error from region creation", error);
        }

        try
        {
            if (options.HostNumaNode is { } node)
            {
                BindToHostNode(host, size, node);
            }
        }
        catch
        {
            Libc.Munmap(host, (nuint)size);
            file?.Dispose();
            throw;
        }

        Advise(host, size, options, anonymous: file is null);
        return new GuestRegion(start, size, host, file, zone, new GuestRegionBacking(offset, shared, options.HugePages && options.BackingFile is null));
    }

    private static SafeFd? OpenBacking(GuestMemoryOptions options, ulong size, ulong fileOffset, out ulong offset)
    {
        offset = 0;
        if (options.BackingFile is { } path)
        {
            if (Directory.Exists(path))
            {
                throw new GuestMemoryException("Using a directory as a backing file for memory is not supported");
            }

            SafeFd file;
            try
            {
                file = SafeFd.Open(path, Libc.ORdWr);
            }
            catch (OsException e)
            {
                throw new GuestMemoryException("Failed to create shared file", e);
            }

            var length = (ulong)new FileInfo(path).Length;
            if (length < fileOffset + size)
            {
                file.Dispose();
                throw new GuestMemoryException("Error from region creation",
                    new GuestMemoryException($"The mapping of 0x{size:x} bytes at offset 0x{fileOffset:x} goes past the end of {path} (0x{length:x} bytes)"));
            }

            offset = fileOffset;
            return file;
        }

        if (!options.Shared && !options.HugePages)
        {
            return null;
        }

        var memfdFlags = Libc.MfdCloExec;
        if (options.HugePages)
        {
            memfdFlags |= Libc.MfdHugeTlb;
            if (options.HugePageSize is { } pageSize)
            {
                memfdFlags |= (uint)BitOperations.TrailingZeroCount(pageSize) << Libc.MapHugeShift;
            }
        }

        var fd = Libc.MemfdCreate("ch_ram", memfdFlags);
        if (fd < 0)
        {
            throw new GuestMemoryException("Failed to create shared file", OsException.Last());
        }

        var memfd = new SafeFd(fd);
        if (Libc.Ftruncate(memfd.Fd, (long)size) != 0)
        {
            var error = OsException.Last();
            memfd.Dispose();
            throw new GuestMemoryException("Failed to set shared file length", error);
        }

        return memfd;
    }

    /// <summary>
    /// MPOL_BIND to one node, moving any pages already allocated (MPOL_MF_MOVE) and failing if they
    /// cannot be moved (MPOL_MF_STRICT). The kernel drops the last bit of maxnode, hence node + 2.
    /// </summary>
    private static void BindToHostNode(nint host, ulong size, uint node)
    {
        Span<ulong> mask = new ulong[(node / 64) + 1];
        mask[(int)(node / 64)] = 1UL << (int)(node % 64);
        if (Libc.Mbind(host, (nuint)size, Libc.MpolBind, mask, node + 2UL, Libc.MpolMfStrict | Libc.MpolMfMove) != 0)
        {
            throw new GuestMemoryException("Failed applying NUMA memory policy", OsException.Last());
        }
    }

    /// <summary>Best-effort, as upstream: prefault, THP or KSM may be unavailable on the host.</summary>
    private static void Advise(nint host, ulong size, GuestMemoryOptions options, bool anonymous)
    {
        // Prefault after the NUMA binding so the pages are allocated on the bound node.
        if (options.Prefault && Libc.Madvise(host, (nuint)size, Libc.MadvPopulateWrite) != 0)
        {
            Log.Warn($"Failed to prefault pages: {OsException.Last().Message}");
        }

        if (anonymous && options.Thp && Libc.Madvise(host, (nuint)size, Libc.MadvHugePage) != 0)
        {
            Log.Warn($"Failed to mark pages as THP eligible: {OsException.Last().Message}");
        }

        if (options.Mergeable && Libc.Madvise(host, (nuint)size, Libc.MadvMergeable) != 0)
        {
            Log.Warn("failed to mark pages as mergeable");
        }
    }
}
