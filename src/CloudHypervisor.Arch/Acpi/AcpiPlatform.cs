namespace CloudHypervisor.Arch.Acpi;

/// <summary>What the ACPI tables describe about one VM.</summary>
public sealed record AcpiPlatform
{
    public int BootVcpus { get; init; } = 1;

    public int MaxVcpus { get; init; } = 1;

    /// <summary>The x2APIC id of each possible vCPU, by index.</summary>
    public required IReadOnlyList<uint> ApicIds { get; init; }

    public bool SerialPresent { get; init; } = true;

    /// <summary>The PCI segments, in id order from 0 (<c>--platform num_pci_segments</c>).</summary>
    public required IReadOnlyList<AcpiPciSegment> PciSegments { get; init; }

    public uint GedIrq { get; init; } = 13;

    public ulong GedAddress { get; init; }

    /// <summary>The PCI hotplug controller's registers (<c>\_SB_.PHPR</c>, 0x10 bytes).</summary>
    public ulong PciHotplugAddress { get; init; }

    /// <summary>The guest NUMA nodes (`--numa`); with any, SRAT and SLIT are written after MCFG.</summary>
    public IReadOnlyList<AcpiNumaNode> NumaNodes { get; init; } = [];
}
