namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// Hands out BAR addresses from one MMIO window, top-down: each request gets the highest free,
/// suitably aligned range, as upstream's allocator does. Thread-safe.
/// </summary>
public sealed class PciMmioAllocator
{
    private readonly object gate = new();

    /// <summary>Allocated ranges by start address.</summary>
    private readonly SortedList<ulong, ulong> allocated = [];

    public PciMmioAllocator(ulong start, ulong size)
    {
        if (size == 0 || start > ulong.MaxValue - (size - 1))
        {
            throw new PciException($"Invalid MMIO window 0x{start:x}+0x{size:x}");
        }

        Start = start;
        End = start + (size - 1);
    }

    public ulong Start { get; }

    /// <summary>The window's last address (inclusive).</summary>
    public ulong End { get; }

    public bool Contains(ulong address, ulong size) =>
        size > 0 && address >= Start && address <= End && size - 1 <= End - address;

    /// <summary>The highest free range of <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    public bool TryAllocate(ulong size, ulong alignment, out ulong address)
    {
        address = 0;
        if (size == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            return false;
        }

        lock (gate)
        {
            // Walk the gaps between allocations from the top of the window down.
            var gapEnd = End;
            for (var i = allocated.Count - 1; i >= -1; i--)
            {
                var gapStart = i < 0 ? Start : allocated.Keys[i] + allocated.Values[i];
                if (gapStart <= gapEnd && gapEnd - gapStart >= size - 1)
                {
                    var candidate = (gapEnd - (size - 1)) & ~(alignment - 1);
                    if (candidate >= gapStart)
                    {
                        allocated.Add(candidate, size);
                        address = candidate;
                        return true;
                    }
                }

                if (i < 0 || allocated.Keys[i] == Start)
                {
                    break;
                }

                gapEnd = allocated.Keys[i] - 1;
            }
        }

        return false;
    }

    /// <summary>Claims exactly [<paramref name="address"/>, +<paramref name="size"/>) if it is inside the window and free.</summary>
    public bool TryAllocateAt(ulong address, ulong size)
    {
        if (!Contains(address, size))
        {
            return false;
        }

        lock (gate)
        {
            foreach (var (start, length) in allocated)
            {
                if (address < start + length && start < address + size)
                {
                    return false;
                }
            }

            allocated.Add(address, size);
            return true;
        }
    }

    /// <summary>Releases a range; only an exact match of an allocation is released.</summary>
    public void Free(ulong address, ulong size)
    {
        lock (gate)
        {
            if (allocated.TryGetValue(address, out var length) && length == size)
            {
                allocated.Remove(address);
            }
        }
    }
}
