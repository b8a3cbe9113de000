namespace CloudHypervisor.Arch.Acpi;

/// <summary>
/// The System Resource Affinity Table: per NUMA node, in ascending node order, one Memory Affinity
/// structure per RAM region of its zones, then one Processor Local x2APIC Affinity per vCPU.
/// </summary>
public static class Srat
{
    private const byte MemoryAffinityType = 1, MemoryAffinityLength = 40;
    private const byte X2ApicAffinityType = 2, X2ApicAffinityLength = 24;
    private const uint Enabled = 1;

    public static byte[] Build(IReadOnlyList<AcpiNumaNode> nodes)
    {
        // The 12 reserved bytes after the header are all zero in upstream's table.
        var srat = new Sdt("SRAT", 3, "CHSRAT").Append(new byte[12]);
        foreach (var node in AcpiNumaNode.Sorted(nodes))
        {
            foreach (var (start, size) in node.Memory)
            {
                srat.AppendU8(MemoryAffinityType).AppendU8(MemoryAffinityLength)
                    .AppendU32(node.Id).AppendU16(0)
                    .AppendU32((uint)start).AppendU32((uint)(start >> 32))
                    .AppendU32((uint)size).AppendU32((uint)(size >> 32))
                    .AppendU32(0).AppendU32(Enabled).AppendU64(0);
            }

            foreach (var x2ApicId in node.X2ApicIds)
            {
                srat.AppendU8(X2ApicAffinityType).AppendU8(X2ApicAffinityLength).AppendU16(0)
                    .AppendU32(node.Id).AppendU32(x2ApicId).AppendU32(Enabled)
                    .AppendU32(0).AppendU32(0); // clock domain, reserved
            }
        }

        return srat.ToArray();
    }
}
