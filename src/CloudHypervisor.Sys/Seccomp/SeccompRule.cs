namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// A test on one syscall argument. Dword compares the low 32 bits only (what the kernel reads for an
/// <c>int</c>/<c>unsigned int</c> parameter such as an ioctl request, whatever glibc left in the upper half);
/// Qword compares all 64.
/// </summary>
public readonly record struct ArgCondition(int Index, ulong Value, bool Qword = false)
{
    public static ArgCondition Dword(int index, ulong value) => new(index, value & 0xffff_ffff);

    public static ArgCondition Full(int index, ulong value) => new(index, value, Qword: true);
}

/// <summary>
/// A syscall a filter allows: always (no alternatives), or when every condition of at least one
/// alternative holds.
/// </summary>
public sealed record SyscallRule(int Number, IReadOnlyList<ArgCondition[]> Alternatives)
{
    public bool IsUnconditional => Alternatives.Count == 0;

    public static SyscallRule Always(int number) => new(number, []);

    /// <summary>Allowed when argument <paramref name="index"/> (low 32 bits) is one of <paramref name="values"/>.</summary>
    public static SyscallRule WhenArg(int number, int index, params ulong[] values) =>
        new(number, values.Select(v => new[] { ArgCondition.Dword(index, v) }).ToArray());
}
