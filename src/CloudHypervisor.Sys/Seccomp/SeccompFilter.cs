namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// A seccomp filter: the syscalls a thread may make, compiled to the classic BPF program the kernel runs on
/// every syscall. Shape: the architecture must be x86-64 (anything else kills the process), then a binary search
/// over the sorted syscall numbers down to leaves of a few compares, each leaf ending in its own returns; a
/// syscall with argument conditions jumps to its own block, where each alternative checks its conditions (64-bit
/// arguments as two 32-bit halves) and allows on the first that holds.
/// </summary>
/// <remarks>
/// Why a search rather than Firecracker's one compare per syscall in a row: when a filter is attached, the kernel
/// runs it symbolically for every syscall number to find those it always allows (its action cache), so a linear
/// program of a few hundred syscalls costs hundreds of thousands of steps at start-up, and as many compares on
/// each syscall the cache cannot answer. A search costs a few dozen.
/// </remarks>
public sealed class SeccompFilter
{
    public const uint AuditArchX86_64 = 0xC000_003E;

    /// <summary>Syscalls a leaf of the search tests one by one.</summary>
    private const int LeafSize = 8;

    // struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
    private const uint NrOffset = 0, ArchOffset = 4, ArgsOffset = 16;

    public SeccompFilter(IEnumerable<SyscallRule> rules, uint mismatchAction)
    {
        Rules = Merge(rules);
        MismatchAction = mismatchAction;
    }

    /// <summary>One rule per syscall number, in ascending number order.</summary>
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

        // Jumps from a leaf to a rule's condition block: (instruction index, rule index), resolved once the blocks
        // are laid out after the search.
        var blockJumps = new List<(int At, int Rule)>();
        if (Rules.Count == 0)
        {
            program.Add(BpfInstruction.Return(MismatchAction));
        }
        else
        {
            EmitSearch(program, blockJumps, 0, Rules.Count);
        }

        var blockStarts = new int[Rules.Count];
        var blocks = new List<BpfInstruction>();
        for (var i = 0; i < Rules.Count; i++)
        {
            if (!Rules[i].IsUnconditional)
            {
                blockStarts[i] = program.Count + blocks.Count;
                AppendConditionBlock(blocks, Rules[i]);
            }
        }

        foreach (var (at, rule) in blockJumps)
        {
            program[at] = BpfInstruction.JumpAlways((uint)(blockStarts[rule] - (at + 1)));
        }

        program.AddRange(blocks);
        if (program.Count > 4096)
        {
            throw new InvalidOperationException($"seccomp filter of {program.Count} instructions exceeds the kernel's 4096");
        }

        return program.ToArray();
    }

    /// <summary>Rules [<paramref name="from"/>, <paramref name="to"/>): a leaf, or a split on the middle rule's number.</summary>
    private void EmitSearch(List<BpfInstruction> program, List<(int At, int Rule)> blockJumps, int from, int to)
    {
        if (to - from <= LeafSize)
        {
            EmitLeaf(program, blockJumps, from, to);
            return;
        }

        // A >= middle: on to the upper half (a 32-bit jump over the lower one), else fall into the lower half.
        var middle = (from + to) / 2;
        program.Add(BpfInstruction.JumpIfGreaterOrEqual((uint)Rules[middle].Number, 0, 1));
        var jumpToUpper = program.Count;
        program.Add(default);
        EmitSearch(program, blockJumps, from, middle);
        program[jumpToUpper] = BpfInstruction.JumpAlways((uint)(program.Count - (jumpToUpper + 1)));
        EmitSearch(program, blockJumps, middle, to);
    }

    /// <summary>One compare per rule, then the leaf's own returns: mismatch, then allow.</summary>
    private void EmitLeaf(List<BpfInstruction> program, List<(int At, int Rule)> blockJumps, int from, int to)
    {
        var length = 0;
        for (var i = from; i < to; i++)
        {
            length += Rules[i].IsUnconditional ? 1 : 2;
        }

        var allowIndex = program.Count + length + 1;
        for (var i = from; i < to; i++)
        {
            if (Rules[i].IsUnconditional)
            {
                program.Add(BpfInstruction.JumpIfEqual((uint)Rules[i].Number, checked((byte)(allowIndex - (program.Count + 1))), 0));
            }
            else
            {
                program.Add(BpfInstruction.JumpIfEqual((uint)Rules[i].Number, 0, 1));
                blockJumps.Add((program.Count, i));
                program.Add(default);
            }
        }

        program.Add(BpfInstruction.Return(MismatchAction));
        program.Add(BpfInstruction.Return(SeccompAction.Allow));
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

        merged.Sort((a, b) => a.Number.CompareTo(b.Number));
        return merged;
    }

    private sealed class AlternativeComparer : IEqualityComparer<ArgCondition[]>
    {
        public static readonly AlternativeComparer Instance = new();

        public bool Equals(ArgCondition[]? x, ArgCondition[]? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(ArgCondition[] obj) => obj.Length == 0 ? 0 : obj[0].GetHashCode();
    }
}
