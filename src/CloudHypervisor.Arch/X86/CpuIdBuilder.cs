using System.Runtime.Intrinsics.X86;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Arch.X86;

/// <summary>Options that shape the guest's CPUID (from `--cpus`).</summary>
public sealed record CpuIdOptions
{
    /// <summary>The topology from `topology=`, or null for (1, boot vCPUs, 1, 1) with APIC id = index.</summary>
    public CpuTopology? Topology { get; init; }

    public int BootVcpus { get; init; } = 1;

    public int PhysBits { get; init; } = Layout.DefaultPhysBits;

    public bool KvmHyperv { get; init; }

    public bool Nested { get; init; } = true;

    public bool Amx { get; init; }

    public uint TscKhz { get; init; }
}

/// <summary>Upstream's adjustments to the hypervisor's supported CPUID, per vCPU.</summary>
public static class CpuIdBuilder
{
    private const uint KvmSignatureLeaf = 0x4000_0000, KvmFeaturesLeaf = 0x4000_0001, TscLeaf = 0x4000_0010;
    private const uint KvmFeatureMsiExtDestId = 1u << 15;

    /// <summary>min(host physical address bits, the configured maximum).</summary>
    public static int GuestPhysBits(int maxPhysBits)
    {
        var host = HostCpuId(0x8000_0000, 0).Eax >= 0x8000_0008 ? (int)(HostCpuId(0x8000_0008, 0).Eax & 0xFF) : 36;
        return Math.Min(host, maxPhysBits);
    }

    public static CpuIdEntry[] Build(ReadOnlySpan<CpuIdEntry> supported, CpuIdOptions options, int vcpuIndex)
    {
        var topology = options.Topology ?? new CpuTopology(1, Math.Max(options.BootVcpus, 1), 1, 1);
        var apicId = options.Topology is null ? (uint)vcpuIndex : topology.X2ApicId(vcpuIndex);
        var amd = IsAmd();
        var coresTimesThreads = topology.CoresPerDie * topology.ThreadsPerCore;
        var logicalPerPackage = coresTimesThreads * topology.DiesPerPackage;
        var tscLeaf = options.TscKhz != 0 && !options.KvmHyperv && (HostCpuId(0x8000_0007, 0).Edx & (1u << 8)) != 0;

        var entries = new List<CpuIdEntry>(supported.Length + 8);
        foreach (var original in supported)
        {
            var e = original;
            switch (e.Function)
            {
                case 0x1:
                    e.Ecx |= (1u << 31) | (1u << 24);
                    e.Edx |= (1u << 12) | (1u << 28);
                    e.Ebx = (e.Ebx & 0xFFFF) | (apicId << 24) | ((uint)(logicalPerPackage & 0xFF) << 16);
                    if (!options.Nested && !amd)
                    {
                        e.Ecx &= ~(1u << 5);
                    }

                    if (amd && coresTimesThreads > 1)
                    {
                        e.Ebx = (apicId << 24) | ((uint)coresTimesThreads << 16) | (8u << 8);
                    }

                    break;
                case 0x4 when !amd:
                case 0x8000_001D when amd:
                    if ((e.Eax & 0x1F) != 0)
                    {
                        var sharing = Math.Min((e.Eax >> 14) & 0xFFF, Math.Min((1u << topology.CoreWidth) - 1, 0xFFF));
                        e.Eax = (e.Eax & ~(0xFFFu << 14)) | (sharing << 14);
                        if (e.Function == 0x4)
                        {
                            var cores = Math.Min((1u << (topology.DieWidth - topology.ThreadWidth)) - 1, 0x3F);
                            e.Eax = (e.Eax & 0x03FF_FFFF) | (cores << 26);
                        }
                    }

                    break;
                case 0x7 when !options.Amx && e.Index == 0:
                    e.Edx &= ~((1u << 22) | (1u << 24) | (1u << 25));
                    break;
                case 0x7 when !options.Amx && e.Index == 1:
                    e.Eax &= ~(1u << 21);
                    e.Edx &= ~(1u << 8);
                    break;
                case 0xB:
                case 0x1F:
                    continue; // rebuilt below from the topology
                case 0x1D or 0x1E when !options.Amx:
                    e.Eax = e.Ebx = e.Ecx = e.Edx = 0;
                    break;
                case KvmSignatureLeaf:
                    if (options.KvmHyperv)
                    {
                        continue;
                    }

                    if (tscLeaf)
                    {
                        e.Eax = Math.Max(e.Eax, TscLeaf);
                    }

                    break;
                case KvmFeaturesLeaf:
                    if (options.KvmHyperv)
                    {
                        continue;
                    }

                    e.Eax |= KvmFeatureMsiExtDestId;
                    break;
                case 0x8000_0001 when amd:
                    if (!options.Nested)
                    {
                        e.Ecx &= ~(1u << 2);
                    }

                    if (coresTimesThreads > 1)
                    {
                        e.Ecx |= (1u << 1) | (1u << 22);
                    }

                    break;
                case 0x8000_0002 or 0x8000_0003 or 0x8000_0004:
                    e = WithHostValues(e);
                    break;
                case 0x8000_0005 or 0x8000_0006 when e.Eax == 0 && e.Ebx == 0 && e.Ecx == 0 && e.Edx == 0:
                    e = WithHostValues(e);
                    break;
                case 0x8000_0008:
                    e.Eax = (e.Eax & ~0x00FF_00FFu) | (uint)options.PhysBits | ((uint)options.PhysBits << 16);
                    if (amd)
                    {
                        e.Ecx = coresTimesThreads > 1
                            ? ((uint)(topology.ThreadWidth + topology.CoreWidth + topology.DieWidth) << 12) | (uint)(coresTimesThreads - 1)
                            : 0;
                    }

                    break;
                case 0x8000_001E when amd:
                    e.Eax = apicId;
                    e.Ebx = ((uint)(topology.ThreadsPerCore - 1) << 8) | (apicId & 0xFF);
                    e.Ecx = ((uint)(topology.DiesPerPackage - 1) << 8) | (uint)((topology.ThreadWidth + topology.DieWidth) & 0xFF);
                    e.Edx = 0;
                    break;
            }

            entries.Add(e);
        }

        AddTopologyLeaves(entries, topology, apicId);
        if (tscLeaf)
        {
            entries.Add(new CpuIdEntry { Function = TscLeaf, Eax = options.TscKhz, Ebx = 1_000_000 });
        }

        if (options.KvmHyperv)
        {
            AddHypervLeaves(entries);
        }

        return entries.ToArray();
    }

    private static void AddTopologyLeaves(List<CpuIdEntry> entries, CpuTopology t, uint apicId)
    {
        var threads = (uint)t.ThreadsPerCore;
        var coresThreads = (uint)(t.CoresPerDie * t.ThreadsPerCore);
        var all = coresThreads * (uint)t.DiesPerPackage;
        const uint Indexed = CpuIdEntry.SignificantIndex;
        entries.Add(new CpuIdEntry { Function = 0xB, Index = 0, Flags = Indexed, Eax = (uint)t.ThreadWidth, Ebx = threads, Ecx = 0x100, Edx = apicId });
        entries.Add(new CpuIdEntry { Function = 0xB, Index = 1, Flags = Indexed, Eax = (uint)t.DieWidth, Ebx = all, Ecx = 0x200, Edx = apicId });
        entries.Add(new CpuIdEntry { Function = 0x1F, Index = 0, Flags = Indexed, Eax = (uint)t.ThreadWidth, Ebx = threads, Ecx = 0x100, Edx = apicId });
        entries.Add(new CpuIdEntry { Function = 0x1F, Index = 1, Flags = Indexed, Eax = (uint)t.CoreWidth, Ebx = coresThreads, Ecx = 0x200, Edx = apicId });
        entries.Add(new CpuIdEntry { Function = 0x1F, Index = 2, Flags = Indexed, Eax = (uint)t.DieWidth, Ebx = all, Ecx = 0x500, Edx = apicId });
    }

    private static void AddHypervLeaves(List<CpuIdEntry> entries)
    {
        entries.Add(new CpuIdEntry { Function = 0x4000_0000, Eax = 0x4000_000A, Ebx = 0x756E_694C, Ecx = 0x564B_2078, Edx = 0x7648_204D });
        entries.Add(new CpuIdEntry { Function = 0x4000_0001, Eax = 0x3123_7648 });
        entries.Add(new CpuIdEntry { Function = 0x4000_0002, Eax = 0x3839, Ebx = 0xA_0000 });
        entries.Add(new CpuIdEntry
        {
            Function = 0x4000_0003,
            Eax = 0x7F | (1u << 9) | (1u << 11),
            Edx = (1u << 3) | (1u << 4) | (1u << 8),
        });
        entries.Add(new CpuIdEntry
        {
            Function = 0x4000_0004,
            Eax = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 9) | (1u << 10),
            Ebx = 0xFFF,
        });
        for (var leaf = 0x4000_0005u; leaf <= 0x4000_000A; leaf++)
        {
            entries.Add(new CpuIdEntry { Function = leaf });
        }
    }

    private static CpuIdEntry WithHostValues(CpuIdEntry e)
    {
        var host = HostCpuId(e.Function, e.Index);
        e.Eax = host.Eax;
        e.Ebx = host.Ebx;
        e.Ecx = host.Ecx;
        e.Edx = host.Edx;
        return e;
    }

    private static bool IsAmd()
    {
        var (_, ebx, ecx, edx) = HostCpuId(0, 0);
        return ebx == 0x6874_7541 && edx == 0x6974_6E65 && ecx == 0x444D_4163; // "AuthenticAMD"
    }

    private static (uint Eax, uint Ebx, uint Ecx, uint Edx) HostCpuId(uint leaf, uint subLeaf)
    {
        var (a, b, c, d) = X86Base.CpuId((int)leaf, (int)subLeaf);
        return ((uint)a, (uint)b, (uint)c, (uint)d);
    }
}
