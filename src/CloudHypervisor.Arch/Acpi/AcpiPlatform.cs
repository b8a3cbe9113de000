namespace CloudHypervisor.Arch.Acpi;

/// <summary>What the ACPI tables describe about one VM.</summary>
public sealed record AcpiPlatform
{
    public int BootVcpus { get; init; } = 1;

    public int MaxVcpus { get; init; } = 1;

    /// <summary>The x2APIC id of each possible vCPU, by index.</summary>
    public required IReadOnlyList<uint> ApicIds { get; init; }

    public bool SerialPresent { get; init; } = true;

    public int PciSegments { get; init; } = 1;

    public ulong Mmio32Start { get; init; }

    public ulong Mmio32End { get; init; }

    public ulong Mmio64Start { get; init; }

    public ulong Mmio64End { get; init; }

    public uint GedIrq { get; init; } = 13;

    public ulong GedAddress { get; init; }

    /// <summary>The guest NUMA nodes (`--numa`); with any, SRAT and SLIT are written after MCFG.</summary>
    public IReadOnlyList<AcpiNumaNode> NumaNodes { get; init; } = [];
}
