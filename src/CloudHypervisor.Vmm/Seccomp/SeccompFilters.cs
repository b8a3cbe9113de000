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
    public static IEnumerable<SyscallRule> Rules(SeccompThreadKind kind, int pid) => kind switch
    {
        SeccompThreadKind.Vmm or SeccompThreadKind.Spawner =>
            SeccompRules.VmmOwn(pid).Concat(Enum.GetValues<SeccompThreadKind>()
                .Where(k => k is not (SeccompThreadKind.Vmm or SeccompThreadKind.Spawner))
                .SelectMany(k => Rules(k, pid))),
        SeccompThreadKind.HttpApi => SeccompRules.HttpApi(pid),
        SeccompThreadKind.Vcpu => SeccompRules.Vcpu(pid),
        SeccompThreadKind.SignalHandler => SeccompRules.SignalHandler(pid),
        SeccompThreadKind.EventMonitor => SeccompRules.EventMonitor(pid),
        SeccompThreadKind.SerialManager => SeccompRules.SerialManager(pid),
        SeccompThreadKind.VirtioBlock => SeccompRules.VirtioBlock(pid),
        SeccompThreadKind.VirtioConsole => SeccompRules.VirtioConsole(pid),
        SeccompThreadKind.VirtioNet => SeccompRules.VirtioNet(pid),
        SeccompThreadKind.VirtioPmem => SeccompRules.VirtioPmem(pid),
        SeccompThreadKind.VirtioRng => SeccompRules.VirtioRng(pid),
        SeccompThreadKind.VirtioWatchdog => SeccompRules.VirtioWatchdog(pid),
        SeccompThreadKind.VirtioBalloon => SeccompRules.VirtioBalloon(pid),
        SeccompThreadKind.VirtioVsock => SeccompRules.VirtioVsock(pid),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static SeccompFilter Filter(SeccompThreadKind kind, SeccompMode mode, int pid) => new(Rules(kind, pid), MismatchAction(mode));

    /// <summary>Whether a kind's own filter lets it create threads; the others have the spawner do it.</summary>
    public static bool CreatesThreads(SeccompThreadKind kind) =>
        kind is SeccompThreadKind.Vmm or SeccompThreadKind.Spawner or SeccompThreadKind.SignalHandler or SeccompThreadKind.VirtioWatchdog;

    /// <summary>The default mode's programs, compiled ahead by <see cref="PrecompileDefault"/> or on first use.</summary>
    private static readonly SeccompProgram?[] DefaultPrograms = new SeccompProgram?[Enum.GetValues<SeccompThreadKind>().Length];

    /// <summary>
    /// Compiles, for the default mode, the programs start-up installs last: the vCPU's, then the VMM thread's (the
    /// longest: every list), so that start-up can overlap compiling them with parsing the command line and building
    /// the VM on a thread of the caller's choosing. A thread that needs one before it is ready compiles its own.
    /// </summary>
    public static void PrecompileDefault()
    {
        var pid = Libc.GetPid();
        foreach (var kind in (ReadOnlySpan<SeccompThreadKind>)[SeccompThreadKind.Vcpu, SeccompThreadKind.Vmm])
        {
            var program = new SeccompProgram(Filter(kind, SeccompMode.Trap, pid).Compile());
            Interlocked.CompareExchange(ref DefaultPrograms[(int)kind], program, null);
        }
    }

    /// <summary>Has threads install their kind's program from now on (compiled on first use, unless compiled ahead).</summary>
    /// <remarks>The spawner shares the VMM thread's program (same rules), which its threads then need not install again.</remarks>
    public static void Enable(SeccompMode mode)
    {
        var pid = Libc.GetPid();
        var programs = mode == SeccompMode.Trap ? DefaultPrograms : new SeccompProgram?[DefaultPrograms.Length];
        if (mode == SeccompMode.Trap)
        {
            SigsysReporter.Install();
        }

        ThreadSandbox.Configure(ProgramOf, CreatesThreads);

        SeccompProgram ProgramOf(SeccompThreadKind kind)
        {
            var shared = kind == SeccompThreadKind.Spawner ? SeccompThreadKind.Vmm : kind;
            if (Volatile.Read(ref programs[(int)shared]) is { } compiled)
            {
                return compiled;
            }

            // Threads of different kinds compile in parallel; two of one kind may both compile, one program wins.
            var program = new SeccompProgram(Filter(shared, mode, pid).Compile());
            return Interlocked.CompareExchange(ref programs[(int)shared], program, null) ?? program;
        }
    }
}
