using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Tests.Sys.Seccomp;

/// <summary>
/// Runs a classic-BPF seccomp program the way the kernel does, over a struct seccomp_data, after checking it the
/// way the kernel's loader would (only the instructions seccomp accepts, forward jumps inside the program, every
/// path ending in a return).
/// </summary>
internal static class BpfInterpreter
{
    public static uint Run(BpfInstruction[] program, int nr, ulong[]? args = null, uint arch = SeccompFilter.AuditArchX86_64) =>
        Execute(program, nr, args, arch).Action;

    /// <summary>How many instructions the program executes for syscall <paramref name="nr"/>, its return included.</summary>
    public static int Steps(BpfInstruction[] program, int nr, ulong[]? args = null) =>
        Execute(program, nr, args, SeccompFilter.AuditArchX86_64).Steps;

    private static (uint Action, int Steps) Execute(BpfInstruction[] program, int nr, ulong[]? args, uint arch)
    {
        Validate(program);
        var data = new byte[64];
        BitConverter.TryWriteBytes(data.AsSpan(0), nr);
        BitConverter.TryWriteBytes(data.AsSpan(4), arch);
        for (var i = 0; i < (args?.Length ?? 0); i++)
        {
            BitConverter.TryWriteBytes(data.AsSpan(16 + 8 * i), args![i]);
        }

        uint accumulator = 0;
        var steps = 0;
        for (var pc = 0; pc < program.Length; pc++)
        {
            steps++;
            var insn = program[pc];
            switch (insn.Code)
            {
                case BpfInstruction.Ld | BpfInstruction.W | BpfInstruction.Abs:
                    accumulator = BitConverter.ToUInt32(data, (int)insn.K);
                    break;
                case BpfInstruction.Jmp | BpfInstruction.Ja:
                    pc += (int)insn.K;
                    break;
                case BpfInstruction.Jmp | BpfInstruction.Jeq | BpfInstruction.K32:
                    pc += accumulator == insn.K ? insn.JumpTrue : insn.JumpFalse;
                    break;
                case BpfInstruction.Jmp | BpfInstruction.Jge | BpfInstruction.K32:
                    pc += accumulator >= insn.K ? insn.JumpTrue : insn.JumpFalse;
                    break;
                case BpfInstruction.Ret | BpfInstruction.K32:
                    return (insn.K, steps);
                default:
                    throw new InvalidOperationException($"instruction {pc}: code 0x{insn.Code:x} is not one seccomp runs here");
            }
        }

        throw new InvalidOperationException("the program ran off its end");
    }

    public static void Validate(BpfInstruction[] program)
    {
        if (program.Length is 0 or > 4096)
        {
            throw new InvalidOperationException($"{program.Length} instructions");
        }

        for (var pc = 0; pc < program.Length; pc++)
        {
            var insn = program[pc];
            var targets = insn.Code switch
            {
                BpfInstruction.Jmp | BpfInstruction.Ja => [pc + 1 + (long)insn.K],
                BpfInstruction.Jmp | BpfInstruction.Jeq or BpfInstruction.Jmp | BpfInstruction.Jge =>
                    new long[] { pc + 1 + insn.JumpTrue, pc + 1 + insn.JumpFalse },
                _ => [],
            };
            foreach (var target in targets)
            {
                if (target >= program.Length)
                {
                    throw new InvalidOperationException($"instruction {pc} jumps out of the program (to {target})");
                }
            }

            if (insn.Code == (BpfInstruction.Ld | BpfInstruction.W | BpfInstruction.Abs) && (insn.K % 4 != 0 || insn.K > 60))
            {
                throw new InvalidOperationException($"instruction {pc} loads outside struct seccomp_data");
            }
        }

        if (program[^1].Code != (BpfInstruction.Ret | BpfInstruction.K32))
        {
            throw new InvalidOperationException("the last instruction is not a return");
        }
    }
}
