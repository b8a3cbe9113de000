using System.Text;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Seccomp;

/// <summary>
/// A thread that makes a syscall its filter does not list ends the VMM through SIGSYS, with a line naming the
/// thread, its kind and the syscall. The test flavour of the binary makes one (getppid, 110) on demand.
/// </summary>
public class SeccompTriggerTests
{
    private const int KilledBySigsys = 128 + 31;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static string[] HaltGuest() =>
        ["--kernel", GuestImages.PathOf(GuestImages.Halt), "--serial", "null", "--console", "off", "--memory", "size=128M"];

    [KvmFact]
    public async Task ForbiddenSyscallOnAVcpuThreadKillsTheVmmWithSigsys()
    {
        var binary = await TestFlavourBinary.PathAsync();
        await using var vmm = TestFlavourBinary.Start(binary, "vcpu", HaltGuest());
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == KilledBySigsys, result.ToString());
        Assert.Contains("cloud-hypervisor: seccomp: thread vcpu0 (vcpu) made forbidden syscall 110\n", result.StandardError);
        Assert.Contains("==== Possible seccomp violation ====", result.StandardError);
        Assert.Contains("Try running with `strace -ff` to identify the cause and open an issue", result.StandardError);
    }

    [KvmFact]
    public async Task ForbiddenSyscallOnTheApiThreadKillsTheVmmWithSigsys()
    {
        var binary = await TestFlavourBinary.PathAsync();
        var directory = Directory.CreateTempSubdirectory("ch-seccomp-");
        try
        {
            await using var vmm = TestFlavourBinary.Start(binary, "http-api", ["--api-socket", $"path={Path.Combine(directory.FullName, "api.sock")}"]);
            var result = await vmm.WaitForExitAsync(Timeout);

            Assert.True(result.ExitCode == KilledBySigsys, result.ToString());
            Assert.Contains("cloud-hypervisor: seccomp: thread http-server (http-api) made forbidden syscall 110\n", result.StandardError);
            Assert.Contains("==== Possible seccomp violation ====", result.StandardError);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [KvmFact]
    public async Task WithoutSeccompTheSameSyscallIsHarmless()
    {
        var binary = await TestFlavourBinary.PathAsync();
        await using var vmm = TestFlavourBinary.Start(binary, "vcpu",
            ["--seccomp", "false", "--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "hi", "--serial", "tty", "--console", "off", "--memory", "size=128M"]);
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("seccomp", result.StandardError);
    }

    [KvmFact]
    public async Task LogModeLetsTheSyscallThroughAndTheKernelLogNamesIt()
    {
        // Also proves the --seccomp log sweep can see a violation: the kernel on this machine logs them.
        var binary = await TestFlavourBinary.PathAsync();
        await using var vmm = TestFlavourBinary.Start(binary, "vcpu",
            ["--seccomp", "log", "--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "hi", "--serial", "tty", "--console", "off", "--memory", "size=128M"]);
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var violations = await SeccompViolations.OfProcessAsync(vmm);
        Assert.Equal([new SeccompViolations.Violation("vcpu0", 110)], violations);
    }

    [KvmFact]
    public async Task TheShippedBinaryHasNoTrigger()
    {
        var shipped = Path.Combine(RepoPaths.Binaries, "cloud-hypervisor");
        Assert.True(File.Exists(shipped), $"{shipped} is missing: run scripts/publish.sh");
        // The test flavour carries the variable's name as a UTF-16 string literal (the runtime's packed object data may
        // fold the last character into the next header, so the test looks for all but that); the shipped binary must not.
        Assert.True(ContainsName(await File.ReadAllBytesAsync(await TestFlavourBinary.PathAsync())), "the test flavour lacks the trigger");
        Assert.False(ContainsName(await File.ReadAllBytesAsync(shipped)), $"{shipped} contains {TestFlavourBinary.TriggerVariable}");

        await using var vmm = TestFlavourBinary.Start(shipped, "vcpu",
            ["--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "hi", "--serial", "tty", "--console", "off", "--memory", "size=128M"]);
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("hi", result.StandardOutput);
    }

    private static bool ContainsName(byte[] binary) =>
        binary.AsSpan().IndexOf(Encoding.Unicode.GetBytes(TestFlavourBinary.TriggerVariable[..^1])) >= 0 ||
        binary.AsSpan().IndexOf(Encoding.ASCII.GetBytes(TestFlavourBinary.TriggerVariable[..^1])) >= 0;
}
