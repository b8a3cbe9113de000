using CloudHypervisor.Arch.Acpi;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Memory;

/// <summary>
/// Resolves `--numa` against the mapped guest RAM: each node gets the regions of its memory zones
/// (a zone split around the 32-bit hole contributes both parts), the x2APIC ids of its vCPUs and
/// its distances. Inconsistencies fail VM creation as upstream's "Invalid NUMA configuration".
/// </summary>
public static class GuestNumaNodes
{
    public static IReadOnlyList<AcpiNumaNode> Build(IReadOnlyList<NumaConfig>? configs, GuestMemory memory, Func<int, uint> x2ApicIdOf)
    {
        if (configs is not { Count: > 0 })
        {
            return [];
        }

        var known = new HashSet<uint>();
        foreach (var config in configs)
        {
            known.Add(config.GuestNumaId);
        }

        var nodes = new List<AcpiNumaNode>(configs.Count);
        var seen = new HashSet<uint>();
        foreach (var config in configs)
        {
            if (!seen.Add(config.GuestNumaId))
            {
                throw Invalid("Can't define twice the same NUMA node");
            }

            nodes.Add(new AcpiNumaNode
            {
                Id = config.GuestNumaId,
                Memory = ZoneRegions(config.MemoryZones, memory),
                X2ApicIds = config.Cpus?.ConvertAll(cpu => x2ApicIdOf((int)cpu)) ?? [],
                Distances = Distances(config.Distances, known),
            });
        }

        return nodes;
    }

    private static List<(ulong Start, ulong Size)> ZoneRegions(List<string>? zones, GuestMemory memory)
    {
        var regions = new List<(ulong Start, ulong Size)>();
        foreach (var zone in zones ?? [])
        {
            var found = false;
            foreach (var region in memory.Regions)
            {
                if (region.Zone == zone)
                {
                    regions.Add((region.Start, region.Size));
                    found = true;
                }
            }

            if (!found)
            {
                throw Invalid($"Unknown memory zone '{zone}'");
            }
        }

        return regions;
    }

    private static Dictionary<uint, byte> Distances(List<NumaDistance>? distances, HashSet<uint> known)
    {
        var result = new Dictionary<uint, byte>();
        foreach (var distance in distances ?? [])
        {
            if (!known.Contains(distance.Destination))
            {
                throw Invalid($"Unknown destination NUMA node {distance.Destination}");
            }

            if (!result.TryAdd(distance.Destination, distance.Distance))
            {
                throw Invalid($"Destination NUMA node {distance.Destination} has been already set");
            }
        }

        return result;
    }

    private static VmmException Invalid(string detail)
    {
        Log.Error(detail);
        return new VmmException("Invalid NUMA configuration");
    }
}
