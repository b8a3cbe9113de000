using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Tests.Sys.Seccomp;
using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Vmm.Seccomp;

namespace CloudHypervisor.Tests.Vmm.Seccomp;

/// <summary>The shape of every thread kind's filter, checked by running the compiled programs.</summary>
public class SeccompFiltersTests
{
    private const int Pid = 4242;
    private const int Read = 0, Write = 1, Open = 2, Mmap = 9, Ioctl = 16, Pwritev = 296, Socket = 41, Clone = 56,
        Execve = 59, Kill = 62, Futex = 202, Openat = 257, Tgkill = 234, Clone3 = 435, Getppid = 110, Preadv = 295;

    public static TheoryData<SeccompThreadKind> Kinds() => new(Enum.GetValues<SeccompThreadKind>());

    // The programs the VMM installs: prebuilt at build time, this pid and the action patched in.
    private static uint Verdict(SeccompThreadKind kind, int nr, params ulong[] args) =>
        BpfInterpreter.Run(SeccompFilters.Instructions(kind, SeccompMode.Trap, Pid), nr, args);

    public static TheoryData<SeccompThreadKind, SeccompMode, int> KindsModesAndPids()
    {
        var data = new TheoryData<SeccompThreadKind, SeccompMode, int>();
        foreach (var kind in Enum.GetValues<SeccompThreadKind>())
        {
            foreach (var (mode, pid) in new[] { (SeccompMode.Trap, 1), (SeccompMode.Log, Pid), (SeccompMode.Errno, 4_194_304), (SeccompMode.Trap, Environment.ProcessId) })
            {
                data.Add(kind, mode, pid);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KindsModesAndPids))]
    public void ThePrebuiltProgramWithItsPidAndActionPatchedInIsTheCompiledOne(SeccompThreadKind kind, SeccompMode mode, int pid)
    {
        Assert.Equal(SeccompFilters.Filter(kind, mode, pid).Compile(), SeccompFilters.Instructions(kind, mode, pid));
    }

    [Fact]
    public void TheKindCountIsTheNumberOfKinds()
    {
        Assert.Equal(SeccompThreadKindNames.Count, Enum.GetValues<SeccompThreadKind>().Length);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryKindButTheSpawnerIsPrebuilt(SeccompThreadKind kind)
    {
        // The spawner installs the VMM thread's program.
        Assert.Equal(kind != SeccompThreadKind.Spawner, PrebuiltSeccompPrograms.TryGet(kind, out _, out _, out _));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryKindCompilesToAValidProgramThatAllowsTheRuntimeAndTrapsTheRest(SeccompThreadKind kind)
    {
        var program = SeccompFilters.Instructions(kind, SeccompMode.Trap, Pid);

        BpfInterpreter.Validate(program);
        foreach (var rule in SeccompRules.Runtime(Pid))
        {
            Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, rule.Number, Satisfying(rule)));
        }

        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Getppid));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Execve));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SignalsGoOnlyToThisProcess(SeccompThreadKind kind)
    {
        Assert.Equal(SeccompAction.Allow, Verdict(kind, Tgkill, Pid, 17, 34));
        Assert.Equal(SeccompAction.Trap, Verdict(kind, Tgkill, 1, 1, 9));
        Assert.Equal(SeccompAction.Trap, Verdict(kind, Kill, 1, 9));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheVmmFilterAllowsEverythingAnyKindDoesSoItsThreadsKeepTheirOwnList(SeccompThreadKind kind)
    {
        // A thread starts under its creator's filter and adds its own: the VMM thread's must not take anything away.
        foreach (var rule in SeccompFilters.Rules(kind, Pid))
        {
            foreach (var args in EachAlternative(rule))
            {
                Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Vmm, rule.Number, args));
                Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Spawner, rule.Number, args));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OnlyThreadCreatingKindsMayClone(SeccompThreadKind kind)
    {
        var expected = SeccompFilters.CreatesThreads(kind) ? SeccompAction.Allow : SeccompAction.Trap;

        Assert.Equal(expected, Verdict(kind, Clone3, 0, 88));
        Assert.Equal(expected, Verdict(kind, Clone, 0));
    }

    [Fact]
    public void VcpuRunsKvmButOpensNothing()
    {
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Vcpu, Ioctl, 9, KvmIoctls.Run));
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Vcpu, Ioctl, 9, KvmIoctls.SignalMsi));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vcpu, Ioctl, 9, KvmIoctls.CreateVm));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vcpu, Ioctl, 9, KvmIoctls.SetUserMemoryRegion));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vcpu, Openat, 0));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vcpu, Open, 0));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vcpu, Socket, 1));
    }

    [Fact]
    public void HttpApiServesSocketsButTouchesNoVm()
    {
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.HttpApi, 288)); // accept4
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.HttpApi, 47)); // recvmsg
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.HttpApi, Ioctl, 9, KvmIoctls.Run));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.HttpApi, Openat, 0));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.HttpApi, Pwritev));
    }

    [Fact]
    public void DeviceThreadsDoOnlyTheirOwnIo()
    {
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.VirtioBlock, Preadv));
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.VirtioBlock, Pwritev));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioBlock, Ioctl, 9, KvmIoctls.Run));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioNet, Preadv));
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.VirtioNet, Ioctl, 9, Libc.TunSetOffload));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioNet, Ioctl, 9, Libc.TunSetIff));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioRng, Pwritev));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioPmem, Openat, 0));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.VirtioConsole, Socket, 1));
    }

    [Fact]
    public void VmmIoctlsAreTheListedOnesEvenSignExtended()
    {
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Vmm, Ioctl, 9, KvmIoctls.CreateVm));
        Assert.Equal(SeccompAction.Allow, Verdict(SeccompThreadKind.Vmm, Ioctl, 9, 0xFFFF_FFFF_0000_0000 | Libc.TunGetIff));
        Assert.Equal(SeccompAction.Trap, Verdict(SeccompThreadKind.Vmm, Ioctl, 9, 0x4008_AE6B)); // not one the VMM uses
    }

    [Theory]
    [InlineData(SeccompMode.Trap, SeccompAction.Trap)]
    [InlineData(SeccompMode.Log, SeccompAction.Log)]
    [InlineData(SeccompMode.Errno, SeccompAction.Errno | 1)]
    public void TheModeDecidesWhatAForbiddenSyscallDoes(SeccompMode mode, uint action)
    {
        var program = SeccompFilters.Filter(SeccompThreadKind.Vcpu, mode, Pid).Compile();

        Assert.Equal(action, BpfInterpreter.Run(program, Getppid));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Futex));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Mmap));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Write));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Read));
    }

    private static IEnumerable<ulong[]> EachAlternative(SyscallRule rule) =>
        rule.IsUnconditional
            ? [new ulong[6]]
            : rule.Alternatives.Select(alternative =>
            {
                var args = new ulong[6];
                foreach (var condition in alternative)
                {
                    args[condition.Index] = condition.Value;
                }

                return args;
            });

    private static ulong[] Satisfying(SyscallRule rule)
    {
        var args = new ulong[6];
        if (!rule.IsUnconditional)
        {
            foreach (var condition in rule.Alternatives[0])
            {
                args[condition.Index] = condition.Value;
            }
        }

        return args;
    }
}
