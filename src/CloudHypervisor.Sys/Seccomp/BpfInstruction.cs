using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Seccomp;

/// <summary>One classic BPF instruction (struct sock_filter, 8 bytes), as the kernel's seccomp loader takes it.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfInstruction(ushort Code, byte JumpTrue, byte JumpFalse, uint K)
{
    // Instruction classes and fields of linux/bpf_common.h.
    public const ushort Ld = 0x00, Jmp = 0x05, Ret = 0x06;
    public const ushort W = 0x00, Abs = 0x20;
    public const ushort Ja = 0x00, Jeq = 0x10, Jge = 0x30;
    public const ushort K32 = 0x00;

    /// <summary>A = the 32-bit word at <paramref name="offset"/> of struct seccomp_data.</summary>
    public static BpfInstruction LoadWord(uint offset) => new(Ld | W | Abs, 0, 0, offset);

    /// <summary>Skips <paramref name="ifEqual"/> instructions when A == k, else <paramref name="ifNotEqual"/>.</summary>
    public static BpfInstruction JumpIfEqual(uint k, byte ifEqual, byte ifNotEqual) => new(Jmp | Jeq | K32, ifEqual, ifNotEqual, k);

    /// <summary>Skips <paramref name="ifGreaterOrEqual"/> instructions when A >= k (unsigned), else <paramref name="ifLess"/>.</summary>
    public static BpfInstruction JumpIfGreaterOrEqual(uint k, byte ifGreaterOrEqual, byte ifLess) => new(Jmp | Jge | K32, ifGreaterOrEqual, ifLess, k);

    /// <summary>Unconditional forward jump over <paramref name="count"/> instructions (32-bit reach).</summary>
    public static BpfInstruction JumpAlways(uint count) => new(Jmp | Ja, 0, 0, count);

    public static BpfInstruction Return(uint action) => new(Ret | K32, 0, 0, action);
}
