namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// A seccomp filter: the syscalls a thread may make, compiled to the classic BPF program the kernel runs on
/// every syscall. Shape (as Firecracker's seccompiler): the architecture must be x86-64 (anything else kills the
/// process), then one compare-and-jump per allowed syscall in list order (hot syscalls first), falling through to
/// <see cref="MismatchAction"/>; a syscall with argument conditions jumps to its own block, where each
/// alternative checks its conditions (64-bit arguments as two 32-bit halves) and allows on the first that holds.
/// </summary>
public sealed class SeccompFilter
{
    public const uint AuditArchX86_64 = 0xC000_003E;

    // struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
    private const uint NrOffset = 0, ArchOffset = 4, ArgsOffset = 16;

    public SeccompFilter(IEnumerable<SyscallRule> rules, uint mismatchAction)
    {
        Rules = Merge(rules);
        MismatchAction = mismatchAction;
    }

    /// <summary>One rule per syscall number, in first-seen order.</summary>
    public IReadOnlyList<SyscallRule> Rules { get; }

    public uint MismatchAction { get; }

    public BpfInstruction[] Compile()
    {
        var program = new List<BpfInstruction>
        {
            BpfInstruction.LoadWord(ArchOffset),
            BpfInstruction.JumpIfEqual(AuditArchX86_64, 1, 0),
            BpfInstruction.Return(SeccompAction.KillProcess),
            BpfInstruction.LoadWord(NrOffset),
        };

        var dispatchStart = program.Count;
        var allowIndex = dispatchStart + 2 * Rules.Count + 1;
        var blocks = new List<BpfInstruction>();
        var blocksStart = allowIndex + 1;
        foreach (var rule in Rules)
        {
            var target = rule.IsUnconditional ? allowIndex : blocksStart + blocks.Count;
            program.Add(BpfInstruction.JumpIfEqual((uint)rule.Number, 0, 1));
            program.Add(BpfInstruction.JumpAlways((uint)(target - (program.Count + 1))));
            if (!rule.IsUnconditional)
            {
                AppendConditionBlock(blocks, rule);
            }
        }

        program.Add(BpfInstruction.Return(MismatchAction));
        program.Add(BpfInstruction.Return(SeccompAction.Allow));
        program.AddRange(blocks);
        if (program.Count > 4096)
        {
            throw new InvalidOperationException($"seccomp filter of {program.Count} instructions exceeds the kernel's 4096");
        }

        return program.ToArray();
    }

    private void AppendConditionBlock(List<BpfInstruction> block, SyscallRule rule)
    {
        foreach (var alternative in rule.Alternatives)
        {
            var length = alternative.Sum(c => c.Qword ? 4 : 2) + 1;
            var start = block.Count;
            foreach (var condition in alternative)
            {
                var argument = ArgsOffset + 8 * (uint)condition.Index;
                if (condition.Qword)
                {
                    block.Add(BpfInstruction.LoadWord(argument + 4));
                    block.Add(BpfInstruction.JumpIfEqual((uint)(condition.Value >> 32), 0, SkipToEnd(block.Count, start, length)));
                }

                block.Add(BpfInstruction.LoadWord(argument));
                block.Add(BpfInstruction.JumpIfEqual((uint)condition.Value, 0, SkipToEnd(block.Count, start, length)));
            }

            block.Add(BpfInstruction.Return(SeccompAction.Allow));
        }

        block.Add(BpfInstruction.Return(MismatchAction));
    }

    /// <summary>The jump from the instruction about to be added at <paramref name="index"/> to the next alternative.</summary>
    private static byte SkipToEnd(int index, int start, int length) => checked((byte)(start + length - (index + 1)));

    private static List<SyscallRule> Merge(IEnumerable<SyscallRule> rules)
    {
        var merged = new List<SyscallRule>();
        var positions = new Dictionary<int, int>();
        foreach (var rule in rules)
        {
            if (!positions.TryGetValue(rule.Number, out var position))
            {
                positions[rule.Number] = merged.Count;
                merged.Add(rule);
                continue;
            }

            var existing = merged[position];
            merged[position] = existing.IsUnconditional || rule.IsUnconditional
                ? SyscallRule.Always(rule.Number)
                : existing with { Alternatives = existing.Alternatives.Concat(rule.Alternatives).Distinct(AlternativeComparer.Instance).ToArray() };
        }

        return merged;
    }

    private sealed class AlternativeComparer : IEqualityComparer<ArgCondition[]>
    {
        public static readonly AlternativeComparer Instance = new();

        public bool Equals(ArgCondition[]? x, ArgCondition[]? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(ArgCondition[] obj) => obj.Length == 0 ? 0 : obj[0].GetHashCode();
    }
}
