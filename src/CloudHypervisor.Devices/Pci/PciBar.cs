namespace CloudHypervisor.Devices.Pci;

/// <summary>What a BAR decodes; the values are the low bits the BAR register reports.</summary>
public enum PciBarRegion : uint
{
    Memory32 = 0x0,
    Io = 0x1,
    Memory64 = 0x4,
}

/// <summary>One BAR a device exposes: register <paramref name="Index"/> (0–5; a 64-bit BAR also takes the next).</summary>
public readonly record struct PciBar(int Index, ulong Address, ulong Size, PciBarRegion Region, bool Prefetchable = false);

/// <summary>The guest programmed a BAR to a new base: the device's mappings must follow.</summary>
public readonly record struct PciBarMove(ulong OldBase, ulong NewBase, ulong Length, PciBarRegion Region);
