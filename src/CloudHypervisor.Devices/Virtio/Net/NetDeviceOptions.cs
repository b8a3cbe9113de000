using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// What a virtio-net device is built with: its id, the guest's MAC, the queue size, the MTU it reports, the offload
/// switches, and the `bw_*`/`ops_*` limits each queue pair applies to its receive and its transmit queue.
/// </summary>
public sealed record NetDeviceOptions(
    string Id, byte[] Mac, ushort QueueSize, ushort? Mtu, bool OffloadCsum, bool OffloadTso, bool OffloadUfo, RateLimiterSettings? RateLimiter = null);
