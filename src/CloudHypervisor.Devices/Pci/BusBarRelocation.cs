namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// Moves a BAR the guest reprogrammed: the address range changes hands in the segment's MMIO
/// allocators, the mapping moves on the MMIO or port-I/O bus, then the device hears of it.
/// </summary>
public sealed class BusBarRelocation : IPciBarRelocation
{
    private readonly Bus ioBus;
    private readonly Bus mmioBus;
    private readonly PciMmioAllocator[] allocators;

    public BusBarRelocation(Bus ioBus, Bus mmioBus, params PciMmioAllocator[] allocators)
    {
        this.ioBus = ioBus;
        this.mmioBus = mmioBus;
        this.allocators = allocators;
    }

    public void MoveBar(PciDevice device, PciBarMove move)
    {
        if (move.Region != PciBarRegion.Io)
        {
            MoveAllocation(move);
        }

        var bus = move.Region == PciBarRegion.Io ? ioBus : mmioBus;
        bus.Remove(move.OldBase);
        try
        {
            bus.Insert(device, move.NewBase, move.Length);
        }
        catch (BusException)
        {
            bus.Insert(device, move.OldBase, move.Length);
            throw;
        }

        device.MoveBar(move.OldBase, move.NewBase);
    }

    private void MoveAllocation(PciBarMove move)
    {
        var old = Find(move.OldBase, move.Length);
        old?.Free(move.OldBase, move.Length);
        if (Find(move.NewBase, move.Length) is { } target && target.TryAllocateAt(move.NewBase, move.Length))
        {
            return;
        }

        old?.TryAllocateAt(move.OldBase, move.Length);
        throw new PciException($"Failed allocating new MMIO range 0x{move.NewBase:x}+0x{move.Length:x}");
    }

    private PciMmioAllocator? Find(ulong address, ulong length)
    {
        foreach (var allocator in allocators)
        {
            if (allocator.Contains(address, length))
            {
                return allocator;
            }
        }

        return null;
    }
}
