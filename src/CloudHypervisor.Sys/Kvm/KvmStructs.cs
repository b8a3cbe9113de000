using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Kvm;

// Blittable mirrors of linux/kvm.h and asm/kvm.h (x86-64). Sizes and offsets are checked by tests.

[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable, Padding;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public fixed ushort Padding[3];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8, Efer, ApicBase;
    public fixed ulong InterruptBitmap[4];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmFpu
{
    public fixed byte Fpr[128];
    public ushort Fcw, Fsw;
    public byte Ftwx, Pad1;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;
    public fixed byte Xmm[256];
    public uint Mxcsr, Pad2;
}

[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrEntry
{
    public uint Index;
    public uint Reserved;
    public ulong Data;
}

/// <summary>Header of struct kvm_msrs; entries follow.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrsHeader
{
    public uint Nmsrs;
    public uint Pad;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmCpuidEntry2
{
    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;
    public fixed uint Padding[3];
}

/// <summary>Header of struct kvm_cpuid2; entries follow.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuid2Header
{
    public uint Nent;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmLapicState
{
    public fixed byte Regs[1024];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmEnableCap
{
    public uint Cap, Flags;
    public fixed ulong Args[4];
    public fixed byte Pad[64];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIrqFd
{
    public uint Fd, Gsi, Flags, ResampleFd;
    public fixed byte Pad[16];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIoEventFd
{
    public ulong Datamatch, Addr;
    public uint Len;
    public int Fd;
    public uint Flags;
    public fixed byte Pad[36];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmMsi
{
    public uint AddressLo, AddressHi, Data, Flags, DevId;
    public fixed byte Pad[12];
}

/// <summary>Header of struct kvm_irq_routing; entries follow.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmIrqRoutingHeader
{
    public uint Nr;
    public uint Flags;
}

/// <summary>struct kvm_irq_routing_entry with the MSI member of its union.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIrqRoutingEntry
{
    public uint Gsi, Type, Flags, Pad;
    public uint AddressLo, AddressHi, Data, DevId;
    public fixed uint Rest[4];
}

/// <summary>The fixed head of the shared struct kvm_run page; the exit union starts at 32.</summary>
[StructLayout(LayoutKind.Explicit)]
public struct KvmRun
{
    [FieldOffset(0)] public byte RequestInterruptWindow;
    [FieldOffset(1)] public byte ImmediateExit;
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(12)] public byte ReadyForInterruptInjection;
    [FieldOffset(13)] public byte IfFlag;
    [FieldOffset(14)] public ushort Flags;
    [FieldOffset(16)] public ulong Cr8;
    [FieldOffset(24)] public ulong ApicBase;

    // KVM_EXIT_IO
    [FieldOffset(32)] public byte IoDirection;
    [FieldOffset(33)] public byte IoSize;
    [FieldOffset(34)] public ushort IoPort;
    [FieldOffset(36)] public uint IoCount;
    [FieldOffset(40)] public ulong IoDataOffset;

    // KVM_EXIT_MMIO
    [FieldOffset(32)] public ulong MmioPhysAddr;
    [FieldOffset(40)] public ulong MmioData;
    [FieldOffset(48)] public uint MmioLen;
    [FieldOffset(52)] public byte MmioIsWrite;

    // KVM_EXIT_FAIL_ENTRY
    [FieldOffset(32)] public ulong FailEntryReason;

    // KVM_EXIT_INTERNAL_ERROR and KVM_EXIT_SYSTEM_EVENT share the shape {u32, u32/ndata, u64 data[]}
    [FieldOffset(32)] public uint InternalSuberror;
    [FieldOffset(36)] public uint InternalNdata;
    [FieldOffset(40)] public ulong InternalData0;
    [FieldOffset(48)] public ulong InternalData1;
    [FieldOffset(56)] public ulong InternalData2;
    [FieldOffset(64)] public ulong InternalData3;

    [FieldOffset(32)] public uint SystemEventType;

    // KVM_EXIT_IOAPIC_EOI
    [FieldOffset(32)] public byte EoiVector;

    public const byte IoIn = 0, IoOut = 1;
}
