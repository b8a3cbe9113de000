namespace CloudHypervisor.Hypervisor;

/// <summary>x86-64 general-purpose registers, independent of the hypervisor backend.</summary>
public struct StandardRegisters
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

public struct SegmentRegister
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable;
}

public struct DescriptorTable
{
    public ulong Base;
    public ushort Limit;
}

public struct SpecialRegisters
{
    public SegmentRegister Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public DescriptorTable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
}

public readonly record struct MsrEntry(uint Index, ulong Data);

public struct CpuIdEntry
{
    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;

    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry applies to one sub-leaf only.</summary>
    public const uint SignificantIndex = 1;
}
