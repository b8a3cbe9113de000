using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Vmm.Seccomp;

/// <summary>
/// Each thread kind's filter for a <c>--seccomp</c> mode: a forbidden syscall traps (SIGSYS, reported and fatal:
/// <c>true</c>), is logged by the kernel and allowed (<c>log</c>: audit type=1326 in the kernel log), or fails
/// with EPERM (<c>errno</c>).
///
/// Threads inherit their creator's filter and filters stack, so the VMM thread's filter (also main's and the
/// spawner's, the threads that create the others) is its own list plus every other kind's: a thread it creates
/// then ends up with exactly its own list once it installs it.
/// </summary>
public static class SeccompFilters
{
    public static uint MismatchAction(SeccompMode mode) => mode switch
    {
        SeccompMode.Log => SeccompAction.Log,
        SeccompMode.Errno => SeccompAction.ErrnoOf(1),
        _ => SeccompAction.Trap,
    };

    /// <summary>The rules of <paramref name="kind"/> for process <paramref name="pid"/>.</summary>
    public static IEnumerable<SyscallRule> Rules(SeccompThreadKind kind, int pid) => SeccompCatalog.Rules(kind, pid);

    public static SeccompFilter Filter(SeccompThreadKind kind, SeccompMode mode, int pid) => SeccompCatalog.Filter(kind, MismatchAction(mode), pid);

    /// <summary>Whether a kind's own filter lets it create threads; the others have the spawner do it.</summary>
    public static bool CreatesThreads(SeccompThreadKind kind) => SeccompCatalog.CreatesThreads(kind);

    /// <summary>
    /// Has threads install their kind's program from now on: the one compiled at build time
    /// (<see cref="PrebuiltSeccompPrograms"/>) with this process's id and the mode's action patched in.
    /// </summary>
    /// <remarks>The spawner shares the VMM thread's program (same rules), which its threads then need not install again.</remarks>
    public static void Enable(SeccompMode mode)
    {
        var pid = Libc.GetPid();
        var programs = new SeccompProgram?[SeccompThreadKindNames.Count];
        if (mode == SeccompMode.Trap)
        {
            SigsysReporter.Install();
        }

        ThreadSandbox.Configure(ProgramOf, CreatesThreads);

        SeccompProgram ProgramOf(SeccompThreadKind kind)
        {
            var shared = SharedKind(kind);
            if (Volatile.Read(ref programs[(int)shared]) is { } ready)
            {
                return ready;
            }

            // Threads of different kinds build theirs in parallel; two of one kind may both build it, one wins.
            var program = new SeccompProgram(Instructions(shared, mode, pid));
            return Interlocked.CompareExchange(ref programs[(int)shared], program, null) ?? program;
        }
    }

    /// <summary>The program of <paramref name="kind"/>: the prebuilt one, with <paramref name="pid"/> and the mode's action patched in.</summary>
    internal static BpfInstruction[] Instructions(SeccompThreadKind kind, SeccompMode mode, int pid)
    {
        if (!PrebuiltSeccompPrograms.TryGet(SharedKind(kind), out var packed, out var pidSlots, out var actionSlots))
        {
            throw new InvalidOperationException($"No prebuilt seccomp program for the {kind.Text()} thread");
        }

        var program = MemoryMarshal.Cast<ulong, BpfInstruction>(packed).ToArray();
        foreach (var slot in pidSlots)
        {
            program[slot] = program[slot] with { K = (uint)pid };
        }

        var action = MismatchAction(mode);
        foreach (var slot in actionSlots)
        {
            program[slot] = program[slot] with { K = action };
        }

        return program;
    }

    /// <summary>The spawner's rules are the VMM thread's (<see cref="SeccompCatalog.Rules"/>), so it uses that program.</summary>
    private static SeccompThreadKind SharedKind(SeccompThreadKind kind) => kind == SeccompThreadKind.Spawner ? SeccompThreadKind.Vmm : kind;
}
