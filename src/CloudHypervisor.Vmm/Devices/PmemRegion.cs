namespace CloudHypervisor.Vmm.Devices;

/// <summary>A virtio-pmem device's guest physical range and the hypervisor memory slot mapping it.</summary>
public sealed record PmemRegion(string Id, ulong Start, ulong Size, uint Slot);
