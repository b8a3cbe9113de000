using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--cpus boot=,max=,topology=,kvm_hyperv=,max_phys_bits=,affinity=,features=,nested=,core_scheduling=,profile=</summary>
public static class CpusOption
{
    private static readonly string[] Keys = ["boot", "max", "topology", "kvm_hyperv", "max_phys_bits", "affinity", "features", "nested", "core_scheduling", "profile"];

    public static CpusConfig Parse(string input)
    {
        var p = OptionReader.Parse("cpus", input, Keys);
        var config = OptionReader.Guard("cpus", () =>
        {
            uint boot = p.U32("boot") ?? 1;
            return new CpusConfig
            {
                BootVcpus = boot,
                MaxVcpus = p.U32("max") ?? boot,
                Topology = p.ConvertRef<CpuTopology>("topology", TryTopology),
                KvmHyperv = p.Toggle("kvm_hyperv", false),
                MaxPhysBits = p.U8("max_phys_bits") ?? 46,
                Affinity = Affinity(p),
                Profile = p.Convert<CpuProfile>("profile", (string raw, out CpuProfile v) => CpuProfileWire.TryParse(OptionSyntax.Dequote(raw), out v)) ?? CpuProfile.Host,
            };
        });
        var features = OptionReader.Guard("cpus", () => p.ConvertRef<List<string>>("features", ValueConverters.StringList)) ?? [];
        foreach (string feature in features)
        {
            if (feature != "amx")
            {
                throw ConfigParseException.Plain($"Invalid feature in --cpus features list: {feature}");
            }

            config.Features.Amx = true;
        }

        OptionReader.Guard("cpus", () =>
        {
            config.Nested = p.Toggle("nested", true);
            config.CoreScheduling = p.Convert<CoreSchedulingMode>("core_scheduling", TryCoreScheduling) ?? CoreSchedulingMode.Vm;
            return config;
        });
        return config;
    }

    private static List<CpuAffinity>? Affinity(OptionParser p)
    {
        var tuples = p.ConvertRef<List<KeyValuePair<uint, List<ulong>>>>("affinity", (string raw, out List<KeyValuePair<uint, List<ulong>>> v) =>
            ValueConverters.TupleList<uint, List<ulong>>(raw, ValueConverters.U32, ValueConverters.U64List, out v));
        return tuples?.ConvertAll(t => new CpuAffinity { Vcpu = t.Key, HostCpus = t.Value });
    }

    private static bool TryTopology(string raw, out CpuTopology value)
    {
        value = null!;
        string[] parts = OptionSyntax.Dequote(raw).Split(':');
        var numbers = new ushort[4];
        if (parts.Length != 4)
        {
            return false;
        }

        for (int i = 0; i < 4; i++)
        {
            if (!RustInteger.TryParseUnsigned(parts[i], ushort.MaxValue, out ulong n))
            {
                return false;
            }

            numbers[i] = (ushort)n;
        }

        value = new CpuTopology { ThreadsPerCore = numbers[0], CoresPerDie = numbers[1], DiesPerPackage = numbers[2], Packages = numbers[3] };
        return true;
    }

    private static bool TryCoreScheduling(string raw, out CoreSchedulingMode value)
    {
        switch (OptionSyntax.Dequote(raw).ToLowerInvariant())
        {
            case "vm": value = CoreSchedulingMode.Vm; return true;
            case "vcpu": value = CoreSchedulingMode.Vcpu; return true;
            case "off": value = CoreSchedulingMode.Off; return true;
            default: value = default; return false;
        }
    }
}
