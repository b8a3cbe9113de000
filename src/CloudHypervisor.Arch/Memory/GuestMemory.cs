using System.Runtime.InteropServices;
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

    /// <summary>Maps one host region per guest range, all backed alike.</summary>
    public static GuestMemory Create(IReadOnlyList<(ulong Start, ulong Size)> ranges, GuestMemoryOptions options)
    {
        var requests = new GuestRegionRequest[ranges.Count];
        for (var i = 0; i < ranges.Count; i++)
        {
            requests[i] = new GuestRegionRequest(ranges[i].Start, ranges[i].Size, options);
        }

        return Create(requests);
    }

    /// <summary>Maps one host region per request; on failure nothing stays mapped.</summary>
    public static GuestMemory Create(IReadOnlyList<GuestRegionRequest> requests)
    {
        var mapped = new List<GuestRegion>(requests.Count);
        try
        {
            foreach (var request in requests)
            {
                mapped.Add(GuestRegionMapper.Map(request));
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

    private static void Unmap(GuestRegion region)
    {
        Libc.Munmap(region.Host, (nuint)region.Size);
        region.BackingFile?.Dispose();
    }
}
