namespace CloudHypervisor.Vmm.Memory;

/// <summary>
/// Hands out the hypervisor's memory slot numbers: RAM regions take the first ones, then device
/// memory (virtio-pmem ranges) continues from there, so no two mappings share a slot.
/// </summary>
public sealed class MemorySlots
{
    private uint next;

    public uint Allocate() => next++;
}
