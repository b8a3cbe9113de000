using System.Numerics;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Arch.Memory;

/// <summary>
/// Guest RAM: host mappings made once at VM creation, accessed only through bounds-checked spans
/// so a guest-supplied address can never reach host memory outside its regions.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    private readonly GuestRegion[] regions;
    private bool disposed;

    private GuestMemory(GuestRegion[] regions)
    {
        this.regions = regions;
    }

    public IReadOnlyList<GuestRegion> Regions => regions;

    public ulong TotalSize
    {
        get
        {
            ulong total = 0;
            foreach (var region in regions)
            {
                total += region.Size;
            }

            return total;
        }
    }

    /// <summary>Maps one host region per guest range.</summary>
    public static GuestMemory Create(IReadOnlyList<(ulong Start, ulong Size)> ranges, GuestMemoryOptions options)
    {
        var mapped = new List<GuestRegion>(ranges.Count);
        try
        {
            foreach (var (start, size) in ranges)
            {
                mapped.Add(MapRegion(start, size, options));
            }
        }
        catch
        {
            foreach (var region in mapped)
            {
                Unmap(region);
            }

            throw;
        }

        mapped.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new GuestMemory(mapped.ToArray());
    }

    public GuestRegion? FindRegion(ulong address)
    {
        foreach (var region in regions)
        {
            if (region.Contains(address))
            {
                return region;
            }
        }

        return null;
    }

    /// <summary>True when [address, address+length) lies inside one region.</summary>
    public bool IsValidRange(ulong address, ulong length)
    {
        var region = FindRegion(address);
        return region is not null && length <= region.End - address;
    }

    /// <summary>A span over guest memory; throws when the range is not wholly inside one region.</summary>
    public Span<byte> GetSpan(ulong address, int length)
    {
        if (!TryGetSpan(address, length, out var span))
        {
            throw new GuestMemoryException($"Guest memory range 0x{address:x}+0x{length:x} is not backed by RAM");
        }

        return span;
    }

    public bool TryGetSpan(ulong address, int length, out Span<byte> span)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        foreach (var region in regions)
        {
            if (address >= region.Start && address < region.End && length >= 0 && (ulong)length <= region.End - address)
            {
                span = new Span<byte>((byte*)region.Host + (nint)(address - region.Start), length);
                return true;
            }
        }

        span = default;
        return false;
    }

    public void Write(ulong address, ReadOnlySpan<byte> data) => data.CopyTo(GetSpan(address, data.Length));

    public void Read(ulong address, Span<byte> destination) => GetSpan(address, destination.Length).CopyTo(destination);

    public T ReadValue<T>(ulong address)
        where T : unmanaged => MemoryMarshal.Read<T>(GetSpan(address, sizeof(T)));

    public void WriteValue<T>(ulong address, T value)
        where T : unmanaged => MemoryMarshal.Write(GetSpan(address, sizeof(T)), in value);

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var region in regions)
        {
            Unmap(region);
        }
    }

    private static GuestRegion MapRegion(ulong start, ulong size, GuestMemoryOptions options)
    {
        SafeFd? file = null;
        var flags = Libc.MapNoReserve;
        var fd = -1;
        if (options.Shared || options.HugePages)
        {
            var memfdFlags = Libc.MfdCloExec;
            if (options.HugePages)
            {
                memfdFlags |= Libc.MfdHugeTlb;
                if (options.HugePageSize is { } pageSize)
                {
                    memfdFlags |= (uint)BitOperations.Log2(pageSize) << Libc.MapHugeShift;
                }
            }

            file = SafeFd.FromResult(Libc.MemfdCreate("ch_ram", memfdFlags));
            if (Libc.Ftruncate(file.Fd, (long)size) != 0)
            {
                var error = OsException.Last();
                file.Dispose();
                throw new GuestMemoryException("Failed to size the guest memory file", error);
            }

            fd = file.Fd;
            flags |= options.Shared ? Libc.MapShared : Libc.MapPrivate;
        }
        else
        {
            flags |= Libc.MapPrivate | Libc.MapAnonymous;
        }

        if (options.Prefault)
        {
            flags |= Libc.MapPopulate;
        }

        var host = Libc.Mmap(0, (nuint)size, Libc.ProtRead | Libc.ProtWrite, flags, fd, 0);
        if (host == Libc.MapFailed)
        {
            var error = OsException.Last();
            file?.Dispose();
            throw new GuestMemoryException($"Failed to map 0x{size:x} bytes of guest memory", error);
        }

        // Advice is best-effort, as upstream: THP or KSM may be disabled on the host.
        if (options.Thp && !options.HugePages && !options.Shared)
        {
            Libc.Madvise(host, (nuint)size, Libc.MadvHugePage);
        }

        if (options.Mergeable)
        {
            Libc.Madvise(host, (nuint)size, Libc.MadvMergeable);
        }

        return new GuestRegion(start, size, host, file);
    }

    private static void Unmap(GuestRegion region)
    {
        Libc.Munmap(region.Host, (nuint)region.Size);
        region.BackingFile?.Dispose();
    }
}
