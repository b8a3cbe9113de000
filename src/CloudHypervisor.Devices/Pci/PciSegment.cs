using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// One PCI segment as upstream builds it: bus 0 with 32 slots, its ECAM slice at
/// 0xE800_0000 + id · 1 MiB, the 0xCF8 ports (segment 0 only), the host bridge (segment 0 only),
/// its 32-bit and 64-bit BAR windows and the INTx IRQ of each slot.
/// </summary>
public sealed class PciSegment
{
    private readonly Bus ioBus;
    private readonly Bus mmioBus;
    private readonly int[] intxIrqs;

    private PciSegment(ushort id, Bus ioBus, Bus mmioBus, PciBus bus, PciMmioAllocator mmio32, PciMmioAllocator mmio64, int[] intxIrqs)
    {
        Id = id;
        this.ioBus = ioBus;
        this.mmioBus = mmioBus;
        Bus = bus;
        Mmio32 = mmio32;
        Mmio64 = mmio64;
        this.intxIrqs = intxIrqs;
        ConfigMmio = new PciConfigMmio(bus);
        ConfigIo = id == 0 ? new PciConfigIo(bus) : null;
    }

    public ushort Id { get; }

    public PciBus Bus { get; }

    public PciConfigMmio ConfigMmio { get; }

    /// <summary>Configuration mechanism #1; only segment 0 answers on 0xCF8.</summary>
    public PciConfigIo? ConfigIo { get; }

    /// <summary>Where this segment's ECAM slice starts (MCFG's base address for it).</summary>
    public ulong EcamBase => EcamBaseOf(Id);

    /// <summary>The 32-bit BAR window's allocator.</summary>
    public PciMmioAllocator Mmio32 { get; }

    /// <summary>The 64-bit BAR window's allocator.</summary>
    public PciMmioAllocator Mmio64 { get; }

    public static ulong EcamBaseOf(ushort segment) => Layout.PciMmconfigStart + segment * PciConfigMmio.SegmentSize;

    /// <summary>
    /// Builds segment <paramref name="id"/> and puts its configuration access on the buses.
    /// <paramref name="intxIrqs"/> are the legacy IRQs reserved for it (upstream: 8, shared round-robin by slot).
    /// </summary>
    public static PciSegment Create(ushort id, Bus ioBus, Bus mmioBus, PciMmioAllocator mmio32, PciMmioAllocator mmio64, ReadOnlySpan<int> intxIrqs)
    {
        if (intxIrqs.IsEmpty)
        {
            throw new PciException("A PCI segment needs at least one INTx IRQ");
        }

        var relocation = new BusBarRelocation(ioBus, mmioBus, mmio32, mmio64);
        var bus = new PciBus(relocation, id == 0 ? new PciRootBridge() : null);
        var segment = new PciSegment(id, ioBus, mmioBus, bus, mmio32, mmio64, intxIrqs.ToArray());
        mmioBus.Insert(segment.ConfigMmio, segment.EcamBase, PciConfigMmio.SegmentSize);
        if (segment.ConfigIo is { } configIo)
        {
            ioBus.Insert(configIo, PciConfigIo.Port, PciConfigIo.Length);
        }

        return segment;
    }

    /// <summary>The legacy IRQ a device in <paramref name="slot"/> would raise (the DSDT's <c>_PRT</c>).</summary>
    public int IntxIrq(int slot) => intxIrqs[slot % intxIrqs.Length];

    /// <summary>Plugs <paramref name="device"/> into <paramref name="slot"/> and maps its BARs on the buses.</summary>
    public void AddDevice(int slot, PciDevice device, ReadOnlySpan<PciBar> bars)
    {
        foreach (var bar in bars)
        {
            var bus = bar.Region == PciBarRegion.Io ? ioBus : mmioBus;
            bus.Insert(device, bar.Address, bar.Size);
        }

        Bus.AddDevice(slot, device);
    }

    /// <summary>
    /// An address for a BAR of <paramref name="size"/> bytes from the window <paramref name="region"/>
    /// names (I/O BARs are not allocated here), aligned to <paramref name="alignment"/>.
    /// </summary>
    public ulong AllocateBar(PciBarRegion region, ulong size, ulong alignment)
    {
        var window = region switch
        {
            PciBarRegion.Memory32 => Mmio32,
            PciBarRegion.Memory64 => Mmio64,
            _ => throw new PciException("I/O BARs are not supported"),
        };
        return window.TryAllocate(size, alignment, out var address)
            ? address
            : throw new PciException($"Failed allocating MMIO space: size 0x{size:x}");
    }
}
