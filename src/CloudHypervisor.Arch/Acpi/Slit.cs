namespace CloudHypervisor.Arch.Acpi;

/// <summary>
/// The System Locality Information Table: the node count, then the distance matrix in ascending
/// node order. A missing distance is taken from the reverse direction, else 20; local is 10.
/// </summary>
public static class Slit
{
    public const byte LocalDistance = 10, DefaultRemoteDistance = 20;

    public static byte[] Build(IReadOnlyList<AcpiNumaNode> nodes)
    {
        var sorted = AcpiNumaNode.Sorted(nodes);
        var slit = new Sdt("SLIT", 1, "CHSLIT").AppendU64((ulong)sorted.Length);
        foreach (var from in sorted)
        {
            foreach (var to in sorted)
            {
                slit.AppendU8(Distance(from, to));
            }
        }

        return slit.ToArray();
    }

    private static byte Distance(AcpiNumaNode from, AcpiNumaNode to) =>
        from.Id == to.Id ? LocalDistance :
        from.Distances.TryGetValue(to.Id, out var forward) ? forward :
        to.Distances.TryGetValue(from.Id, out var reverse) ? reverse :
        DefaultRemoteDistance;
}
