using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Devices;

public sealed class BusException : ChainedException
{
    public BusException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Maps address ranges to devices. Lookups (every vCPU exit) read an immutable sorted array without
/// locking or allocating; the rare insert/remove swaps in a new array.
/// </summary>
public sealed class Bus
{
    private readonly object writeGate = new();
    private volatile Range[] ranges = [];

    public void Insert(IBusDevice device, ulong start, ulong length)
    {
        if (length == 0)
        {
            throw new BusException("Zero-length bus range");
        }

        lock (writeGate)
        {
            var current = ranges;
            foreach (var r in current)
            {
                if (start < r.Start + r.Length && r.Start < start + length)
                {
                    throw new BusException($"Bus range 0x{start:x}+0x{length:x} overlaps 0x{r.Start:x}+0x{r.Length:x}");
                }
            }

            var next = new Range[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = new Range(start, length, device);
            Array.Sort(next, static (a, b) => a.Start.CompareTo(b.Start));
            ranges = next;
        }
    }

    public void Remove(ulong start)
    {
        lock (writeGate)
        {
            ranges = Array.FindAll(ranges, r => r.Start != start);
        }
    }

    /// <summary>Dispatches a read; returns false when nothing is mapped there.</summary>
    public bool Read(ulong address, Span<byte> data)
    {
        if (!TryFind(address, out var range))
        {
            return false;
        }

        range.Device.Read(range.Start, address - range.Start, data);
        return true;
    }

    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (!TryFind(address, out var range))
        {
            return false;
        }

        range.Device.Write(range.Start, address - range.Start, data);
        return true;
    }

    private bool TryFind(ulong address, out Range found)
    {
        var current = ranges;
        int lo = 0, hi = current.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var r = current[mid];
            if (address < r.Start)
            {
                hi = mid - 1;
            }
            else if (address - r.Start >= r.Length)
            {
                lo = mid + 1;
            }
            else
            {
                found = r;
                return true;
            }
        }

        found = default;
        return false;
    }

    private readonly record struct Range(ulong Start, ulong Length, IBusDevice Device);
}
