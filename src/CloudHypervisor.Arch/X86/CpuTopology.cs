using System.Numerics;

namespace CloudHypervisor.Arch.X86;

/// <summary>threads per core : cores per die : dies per package : packages.</summary>
public readonly record struct CpuTopology(int ThreadsPerCore, int CoresPerDie, int DiesPerPackage, int Packages)
{
    public int ThreadWidth => Bits(ThreadsPerCore);

    public int CoreWidth => Bits(CoresPerDie) + ThreadWidth;

    public int DieWidth => Bits(DiesPerPackage) + CoreWidth;

    /// <summary>The x2APIC id of vCPU <paramref name="index"/>: thread, core, die and package fields packed at their widths.</summary>
    public uint X2ApicId(int index)
    {
        var thread = index % ThreadsPerCore;
        var core = index / ThreadsPerCore % CoresPerDie;
        var die = index / (ThreadsPerCore * CoresPerDie) % DiesPerPackage;
        var package = index / (ThreadsPerCore * CoresPerDie * DiesPerPackage);
        return (uint)(thread | (core << ThreadWidth) | (die << CoreWidth) | (package << DieWidth));
    }

    /// <summary>Bits needed to number <paramref name="count"/> items (0 for one).</summary>
    private static int Bits(int count) => count <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(count - 1));
}
