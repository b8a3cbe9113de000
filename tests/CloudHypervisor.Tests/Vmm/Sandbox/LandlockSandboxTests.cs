using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Vmm.Sandbox;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>The ruleset as the kernel enforces it, each test on its own thread (Landlock never leaves a thread).</summary>
public sealed class LandlockSandboxTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-landlock-");

    public void Dispose() => directory.Delete(recursive: true);

    [LandlockFact]
    public void AConfinedThreadOpensItsRulesAndNothingElse()
    {
        var allowed = CreateFile("allowed");
        var readOnly = CreateFile("read-only");
        var outside = CreateFile("outside");

        var (allowedRw, readOnlyRead, readOnlyWrite, outsideRead) = ConfinedThread.Run(() =>
        {
            Assert.True(LandlockSandbox.RestrictCurrentThread([LandlockRule.ReadWrite(allowed), LandlockRule.ReadOnly(readOnly)]));
            return (Open(allowed, Libc.ORdWr), Open(readOnly, Libc.ORdOnly), Open(readOnly, Libc.ORdWr), Open(outside, Libc.ORdOnly));
        });

        Assert.Equal(0, allowedRw);
        Assert.Equal(0, readOnlyRead);
        Assert.Equal(Libc.EAcces, readOnlyWrite);
        Assert.Equal(Libc.EAcces, outsideRead);
    }

    [LandlockFact]
    public void ADirectoryRuleCoversEverythingBeneathIt()
    {
        var tree = Directory.CreateDirectory(Path.Combine(directory.FullName, "tree", "deep"));
        var nested = Path.Combine(tree.FullName, "file");
        File.WriteAllText(nested, "x");

        var (read, create) = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([LandlockRule.ReadWrite(Path.Combine(directory.FullName, "tree"))]);
            return (Open(nested, Libc.ORdOnly), Open(Path.Combine(tree.FullName, "new"), Libc.OWrOnly | Libc.OCreat));
        });

        Assert.Equal(0, read);
        Assert.Equal(0, create);
    }

    [LandlockFact]
    public void ReadWriteOnAFileKeepsOnlyFileRights()
    {
        // Directory-only rights (MakeReg, RemoveFile, ...) on a file would make the kernel refuse the rule.
        var file = CreateFile("disk.img");

        var truncated = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([LandlockRule.ReadWrite(file)]);
            return Open(file, Libc.OWrOnly | Libc.OTrunc);
        });

        Assert.Equal(0, truncated);
    }

    [LandlockFact]
    public void PathsThatCannotBeOpenedAreSkippedAsUpstreamsCrateDoes()
    {
        var file = CreateFile("present");

        var opened = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([LandlockRule.ReadWrite(Path.Combine(directory.FullName, "missing")), LandlockRule.ReadOnly(file)]);
            return Open(file, Libc.ORdOnly);
        });

        Assert.Equal(0, opened);
    }

    [LandlockFact]
    public void AnEmptyRulesetDeniesEveryOpenButKeepsOpenDescriptorsUsable()
    {
        var file = CreateFile("before");
        using var before = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);

        var (reopen, written) = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([]);
            var buffer = "late"u8.ToArray();
            RandomAccess.Write(before, buffer, 0);
            return (Open(file, Libc.ORdOnly), true);
        });

        Assert.Equal(Libc.EAcces, reopen);
        Assert.True(written);
        Assert.Equal("late", File.ReadAllText(file)[..4]);
    }

    [LandlockFact]
    public void ThreadsCreatedByAConfinedThreadAreConfinedAndOthersAreNot()
    {
        var file = CreateFile("target");

        var childResult = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([]);
            return ConfinedThread.Run(() => Open(file, Libc.ORdOnly));
        });

        Assert.Equal(Libc.EAcces, childResult);
        Assert.Equal(0, Open(file, Libc.ORdOnly));
    }

    [LandlockFact]
    public unsafe void TheSignalStubConfinesTheThreadItInterruptsAndNotTheSender()
    {
        var file = CreateFile("signalled");
        var stub = LandlockSignalStub.Create((ulong)LandlockAccess.HandledBy(LandlockSandbox.AbiVersion));
        var signal = Libc.CurrentSigRtMin() + 3;
        var action = default(Libc.SigAction);
        action.Handler = stub.Handler;
        action.Flags = Libc.SaRestart;
        Assert.Equal(0, Libc.Sigaction(signal, &action, null));
        try
        {
            var tid = 0;
            using var ready = new ManualResetEventSlim();
            using var signalled = new ManualResetEventSlim();
            var opened = -1;
            var target = new Thread(() =>
            {
                tid = Libc.GetTid();
                ready.Set();
                signalled.Wait();
                opened = Open(file, Libc.ORdOnly);
            });
            target.Start();
            ready.Wait();

            Assert.Equal(0, Libc.Tgkill(Libc.GetPid(), tid, signal));
            Assert.True(SpinWait.SpinUntil(() => stub.Answered, TimeSpan.FromSeconds(10)), "the handler never ran");
            signalled.Set();
            target.Join();

            Assert.Equal(0, stub.Errno);
            Assert.Equal(Libc.EAcces, opened);
            Assert.Equal(0, Open(file, Libc.ORdOnly));
        }
        finally
        {
            action.Handler = Libc.SigIgn;
            _ = Libc.Sigaction(signal, &action, null);
        }
    }

    [Fact]
    public void WithoutLandlockNothingIsEnforced()
    {
        var file = CreateFile("free");

        var (enforced, opened) = ConfinedThread.Run(() => (LandlockSandbox.Restrict([], abi: 0), Open(file, Libc.ORdOnly)));

        Assert.False(enforced);
        Assert.Equal(0, opened);
    }

    [LandlockFact]
    public void AnOlderAbiStillEnforcesWhatItKnows()
    {
        // ABI 1 has neither REFER nor TRUNCATE: the ruleset is built without them and still denies opens.
        var file = CreateFile("v1");

        var opened = ConfinedThread.Run(() =>
        {
            Assert.True(LandlockSandbox.Restrict([], abi: 1));
            return Open(file, Libc.ORdOnly);
        });

        Assert.Equal(Libc.EAcces, opened);
    }

    private string CreateFile(string name)
    {
        var path = Path.Combine(directory.FullName, name);
        File.WriteAllText(path, "content");
        return path;
    }

    /// <returns>0, or the errno of the failed open.</returns>
    internal static int Open(string path, int flags)
    {
        var fd = Libc.Open(path, flags | Libc.OCloExec, 0b110_000_000);
        if (fd < 0)
            return Marshal.GetLastPInvokeError();
        Libc.Close(fd);
        return 0;
    }
}
