namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>What a virtio-net device is built with: its id, the guest's MAC, the queue size, the MTU it reports and the offload switches.</summary>
public sealed record NetDeviceOptions(string Id, byte[] Mac, ushort QueueSize, ushort? Mtu, bool OffloadCsum, bool OffloadTso, bool OffloadUfo);
