using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Vmm.Seccomp;

/// <summary>
/// Which rules each thread kind's filter has. Shared, as source, with the build-time generator
/// (src/CloudHypervisor.SeccompGen), which compiles every kind's filter into <c>PrebuiltSeccompPrograms</c>, so the
/// VMM installs filters without compiling them at start-up; it depends on the Sys project only.
/// </summary>
internal static class SeccompCatalog
{
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

    public static SeccompFilter Filter(SeccompThreadKind kind, uint mismatchAction, int pid) => new(Rules(kind, pid), mismatchAction);

    /// <summary>Whether a kind's own filter lets it create threads; the others have the spawner do it.</summary>
    public static bool CreatesThreads(SeccompThreadKind kind) =>
        kind is SeccompThreadKind.Vmm or SeccompThreadKind.Spawner or SeccompThreadKind.SignalHandler or SeccompThreadKind.VirtioWatchdog;
}
