namespace CloudHypervisor.Arch.Acpi;

/// <summary>One guest NUMA node (`--numa`) as SRAT and SLIT describe it.</summary>
public sealed record AcpiNumaNode
{
    /// <summary>The proximity domain (`guest_numa_id`).</summary>
    public required uint Id { get; init; }

    /// <summary>The guest RAM regions of the node's memory zones.</summary>
    public IReadOnlyList<(ulong Start, ulong Size)> Memory { get; init; } = [];

    /// <summary>The x2APIC ids of the node's vCPUs (`cpus=`).</summary>
    public IReadOnlyList<uint> X2ApicIds { get; init; } = [];

    /// <summary>Distances to other nodes by their id (`distances=`); the local distance is always 10.</summary>
    public IReadOnlyDictionary<uint, byte> Distances { get; init; } = new Dictionary<uint, byte>();

    /// <summary>The nodes in ascending id order, the order upstream lists them in both tables.</summary>
    internal static AcpiNumaNode[] Sorted(IReadOnlyList<AcpiNumaNode> nodes)
    {
        var sorted = new AcpiNumaNode[nodes.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = nodes[i];
        }

        Array.Sort(sorted, (a, b) => a.Id.CompareTo(b.Id));
        return sorted;
    }
}
