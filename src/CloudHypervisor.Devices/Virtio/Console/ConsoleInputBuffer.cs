namespace CloudHypervisor.Devices.Virtio.Console;

/// <summary>
/// Bytes from the console backend waiting for the guest to offer receive buffers: a fixed ring, so
/// queueing and delivering never allocate. Input beyond <see cref="Capacity"/> is dropped.
/// </summary>
internal sealed class ConsoleInputBuffer
{
    public const int Capacity = 1 << 16;

    private readonly byte[] ring = new byte[Capacity];
    private readonly object gate = new();
    private int start;
    private int count;

    public bool IsEmpty
    {
        get
        {
            lock (gate)
            {
                return count == 0;
            }
        }
    }

    /// <summary>Appends as much of <paramref name="bytes"/> as fits; returns how many were kept.</summary>
    public int Enqueue(ReadOnlySpan<byte> bytes)
    {
        lock (gate)
        {
            var kept = Math.Min(bytes.Length, Capacity - count);
            var end = (start + count) % Capacity;
            var first = Math.Min(kept, Capacity - end);
            bytes[..first].CopyTo(ring.AsSpan(end));
            bytes[first..kept].CopyTo(ring);
            count += kept;
            return kept;
        }
    }

    /// <summary>Moves up to <paramref name="destination"/>'s length of the oldest bytes into it; returns how many.</summary>
    public int Dequeue(Span<byte> destination)
    {
        lock (gate)
        {
            var taken = Math.Min(destination.Length, count);
            var first = Math.Min(taken, Capacity - start);
            ring.AsSpan(start, first).CopyTo(destination);
            ring.AsSpan(0, taken - first).CopyTo(destination[first..]);
            start = (start + taken) % Capacity;
            count -= taken;
            return taken;
        }
    }
}
