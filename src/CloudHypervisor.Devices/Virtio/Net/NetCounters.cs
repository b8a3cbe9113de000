namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>What <c>vm.counters</c> shows for a network device: Ethernet bytes (without the virtio header) and frames each way.</summary>
public sealed class NetCounters
{
    private ulong rxBytes;
    private ulong rxFrames;
    private ulong txBytes;
    private ulong txFrames;

    internal void Received(ulong bytes)
    {
        Volatile.Write(ref rxBytes, rxBytes + bytes);
        Volatile.Write(ref rxFrames, rxFrames + 1);
    }

    internal void Transmitted(ulong bytes)
    {
        Volatile.Write(ref txBytes, txBytes + bytes);
        Volatile.Write(ref txFrames, txFrames + 1);
    }

    /// <summary>Upstream's counter names and values.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Snapshot() =>
    [
        new("rx_bytes", Volatile.Read(ref rxBytes)),
        new("rx_frames", Volatile.Read(ref rxFrames)),
        new("tx_bytes", Volatile.Read(ref txBytes)),
        new("tx_frames", Volatile.Read(ref txFrames)),
    ];
}
