namespace CloudHypervisor.Arch.Acpi;

/// <summary>One PCI segment as the DSDT (<c>\_SB_.PCnn</c>) and MCFG describe it: its BAR windows (inclusive
/// ends) and the NUMA node it belongs to.</summary>
public sealed record AcpiPciSegment(ushort Id, ulong Mmio32Start, ulong Mmio32End, ulong Mmio64Start, ulong Mmio64End, uint ProximityDomain = 0);
