using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Seccomp;
using static CloudHypervisor.Sys.Seccomp.SyscallRule;

namespace CloudHypervisor.Tests.Sys.Seccomp;

public class SeccompFilterTests
{
    private const int Read = 0, Write = 1, Ioctl = 16, Getppid = 110, Getpriority = 140;

    [Fact]
    public void ForeignArchitectureKillsTheProcess()
    {
        var program = new SeccompFilter([Always(Read)], SeccompAction.Trap).Compile();

        Assert.Equal(SeccompAction.KillProcess, BpfInterpreter.Run(program, Read, arch: 0x4000_0003)); // i386
    }

    [Fact]
    public void ListedSyscallsAreAllowedAndOthersGetTheMismatchAction()
    {
        var program = new SeccompFilter([Always(Read), Always(Write)], SeccompAction.Log).Compile();

        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Read));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Write));
        Assert.Equal(SeccompAction.Log, BpfInterpreter.Run(program, Getppid));
    }

    [Fact]
    public void DwordConditionComparesOnlyTheLowHalf()
    {
        const ulong request = 0x8004_54D2; // TUNGETIFF: glibc may pass it sign-extended
        var program = new SeccompFilter([WhenArg(Ioctl, 1, request)], SeccompAction.Trap).Compile();

        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Ioctl, [3, request]));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Ioctl, [3, 0xFFFF_FFFF_8004_54D2]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Ioctl, [3, 0x8004_54D3]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Ioctl, [request, 0]));
    }

    [Fact]
    public void QwordConditionComparesBothHalves()
    {
        var program = new SeccompFilter([new SyscallRule(Write, [[ArgCondition.Full(2, 0x1_0000_0002)]])], SeccompAction.Trap).Compile();

        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Write, [1, 0, 0x1_0000_0002]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Write, [1, 0, 0x2]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Write, [1, 0, 0x1_0000_0003]));
    }

    [Fact]
    public void AllConditionsOfOneAlternativeMustHold()
    {
        var program = new SeccompFilter(
            [new SyscallRule(Getpriority, [[ArgCondition.Dword(0, 0), ArgCondition.Dword(1, 7)], [ArgCondition.Dword(0, 2)]])],
            SeccompAction.Trap).Compile();

        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Getpriority, [0, 7]));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Getpriority, [2, 99]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Getpriority, [0, 8]));
        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, Getpriority, [1, 7]));
    }

    [Fact]
    public void RulesForTheSameSyscallMergeAndAnUnconditionalOneWins()
    {
        var merged = new SeccompFilter([WhenArg(Ioctl, 1, 1), WhenArg(Ioctl, 1, 2), Always(Read), WhenArg(Read, 0, 5)], SeccompAction.Trap);

        Assert.Equal([Read, Ioctl], merged.Rules.Select(r => r.Number));
        Assert.True(merged.Rules[0].IsUnconditional);
        Assert.Equal(2, merged.Rules[1].Alternatives.Count);
        var program = merged.Compile();
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Ioctl, [0, 2]));
        Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, Read, [9]));
    }

    [Fact]
    public void LongProgramsReachEveryBlock()
    {
        // Blocks sit far more than 255 instructions from their dispatch entries: reached by 32-bit jumps.
        var rules = Enumerable.Range(0, 400).Select(n => WhenArg(n, 0, (ulong)n, (ulong)n + 1000)).ToArray();
        var program = new SeccompFilter(rules, SeccompAction.Trap).Compile();

        Assert.True(program.Length > 1000);
        foreach (var n in new[] { 0, 1, 199, 398, 399 })
        {
            Assert.Equal(SeccompAction.Allow, BpfInterpreter.Run(program, n, [(ulong)n + 1000]));
            Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, n, [(ulong)n + 1]));
        }

        Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, 400, [400]));
    }

    [Fact]
    public void TheSearchAnswersEverySyscallNumberAsTheRulesSay()
    {
        // Irregular numbers, some with conditions, in no particular order: every number from 0 to 600 (and the
        // extremes) gets the rule's answer, whichever leaf of the search it lands in.
        var random = new Random(7);
        var numbers = Enumerable.Range(0, 600).Where(_ => random.Next(3) == 0).OrderBy(_ => random.Next()).ToArray();
        var conditional = numbers.Where(n => n % 5 == 0).ToHashSet();
        var rules = numbers.Select(n => conditional.Contains(n) ? WhenArg(n, 1, (ulong)n * 3) : Always(n)).ToArray();
        var program = new SeccompFilter(rules, SeccompAction.Trap).Compile();

        foreach (var n in Enumerable.Range(0, 601).Append(int.MaxValue).Append(-1))
        {
            var listed = numbers.Contains(n);
            var expected = listed ? SeccompAction.Allow : SeccompAction.Trap;
            Assert.Equal(expected, BpfInterpreter.Run(program, n, [0, (ulong)n * 3]));
            if (conditional.Contains(n))
            {
                Assert.Equal(SeccompAction.Trap, BpfInterpreter.Run(program, n, [0, (ulong)n * 3 + 1]));
            }
        }
    }

    [Fact]
    public void ASyscallIsFoundInLogarithmicallyManySteps()
    {
        // What the kernel's action cache and every uncached syscall pay: for 400 rules a walk of a few dozen
        // instructions, not hundreds.
        var program = new SeccompFilter(Enumerable.Range(0, 400).Select(n => Always(2 * n)), SeccompAction.Trap).Compile();

        var longest = Enumerable.Range(0, 801).Max(n => BpfInterpreter.Steps(program, n));
        Assert.InRange(longest, 1, 4 + 2 * 6 + 8 + 1);
    }

    [Fact]
    public void TheKernelRunsTheCompiledProgramAsTheInterpreterDoes()
    {
        // Every syscall but getppid allowed; getpriority only for (PRIO_PROCESS, 0); anything else fails with EPERM.
        // Filters are per thread: this one dies with its thread.
        var rules = Enumerable.Range(0, 460).Where(n => n is not (Getppid or Getpriority)).Select(Always)
            .Append(new SyscallRule(Getpriority, [[ArgCondition.Full(0, 0), ArgCondition.Full(1, 0)]]));
        var program = new SeccompProgram(new SeccompFilter(rules, SeccompAction.ErrnoOf(1)).Compile());
        int getppid = 0, ownPriorityErrno = -1, groupPriorityErrno = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                program.InstallOnCurrentThread();
                getppid = Getppid_();
                Marshal.SetLastPInvokeError(0);
                _ = GetPriority(0, 0);
                ownPriorityErrno = Marshal.GetLastPInvokeError();
                _ = GetPriority(1, 0);
                groupPriorityErrno = Marshal.GetLastPInvokeError();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();

        Assert.Null(failure);
        // glibc's getppid cannot fail, so it hands back the raw result: -EPERM.
        Assert.Equal(-1, getppid);
        Assert.Equal(0, ownPriorityErrno);
        Assert.Equal(1, groupPriorityErrno);
    }

    [DllImport("libc", EntryPoint = "getppid", SetLastError = true)]
    private static extern int Getppid_();

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);
}
