namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// What <c>vm.counters</c> shows for a disk, as upstream counts it: bytes and operations of completed
/// reads and writes, and their latencies in microseconds. Latencies read <see cref="ulong.MaxValue"/>
/// until the first operation; the average is kept scaled by <see cref="LatencyScale"/> and shown unscaled.
/// </summary>
public sealed class BlockCounters
{
    private const ulong LatencyScale = 10000;

    private readonly Direction read = new();
    private readonly Direction write = new();

    internal void CompletedRead(ulong bytes, ulong latencyMicros) => read.Complete(bytes, latencyMicros);

    internal void CompletedWrite(ulong bytes, ulong latencyMicros) => write.Complete(bytes, latencyMicros);

    /// <summary>Upstream's counter names and values, in its order.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Snapshot() =>
    [
        new("read_bytes", Volatile.Read(ref read.Bytes)),
        new("read_ops", Volatile.Read(ref read.Ops)),
        new("write_bytes", Volatile.Read(ref write.Bytes)),
        new("write_ops", Volatile.Read(ref write.Ops)),
        new("read_latency_min", Volatile.Read(ref read.LatencyMin)),
        new("read_latency_max", Volatile.Read(ref read.LatencyMax)),
        new("read_latency_avg", Volatile.Read(ref read.LatencyAvgScaled) / LatencyScale),
        new("write_latency_min", Volatile.Read(ref write.LatencyMin)),
        new("write_latency_max", Volatile.Read(ref write.LatencyMax)),
        new("write_latency_avg", Volatile.Read(ref write.LatencyAvgScaled) / LatencyScale),
    ];

    /// <summary>One direction's figures; written only by the device's I/O thread.</summary>
    private sealed class Direction
    {
        public ulong Bytes;
        public ulong Ops;
        public ulong LatencyMin = ulong.MaxValue;
        public ulong LatencyMax = ulong.MaxValue;
        public ulong LatencyAvgScaled = ulong.MaxValue;

        public void Complete(ulong bytes, ulong latency)
        {
            var ops = Ops + 1;
            if (latency < LatencyMin)
            {
                Volatile.Write(ref LatencyMin, latency);
            }

            if (LatencyMax == ulong.MaxValue || latency > LatencyMax)
            {
                Volatile.Write(ref LatencyMax, latency);
            }

            var scaled = (long)(latency * LatencyScale);
            var average = LatencyAvgScaled == ulong.MaxValue
                ? (ulong)scaled
                : (ulong)((long)LatencyAvgScaled + ((scaled - (long)LatencyAvgScaled) / (long)ops));
            Volatile.Write(ref LatencyAvgScaled, average);
            Volatile.Write(ref Bytes, Bytes + bytes);
            Volatile.Write(ref Ops, ops);
        }
    }
}
