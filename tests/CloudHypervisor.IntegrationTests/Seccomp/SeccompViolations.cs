using System.Globalization;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Seccomp;

/// <summary>
/// Seccomp violations as the kernel reports them: with SECCOMP_RET_LOG (and RET_TRAP) it writes an audit record,
/// type=1326, to the kernel log, naming the process, the thread's comm and the syscall number. Read with dmesg
/// (needs root); the kernel rate-limits these lines, but a process that violates gets at least its first ones.
/// The log outlives processes (and test runs): a record counts only if it names the process's pid and its audit
/// time stamp (wall clock) is not older than the process, so a recycled pid does not inherit old records.
/// </summary>
internal static partial class SeccompViolations
{
    public sealed record Violation(string Thread, int Syscall)
    {
        public override string ToString() => $"{Thread} made syscall {Syscall}";
    }

    public static async Task<IReadOnlyList<Violation>> OfProcessAsync(RunningProcess process)
    {
        var pid = process.Id;
        // audit(seconds.milliseconds:serial); a millisecond of slack for the truncation.
        var notBefore = process.StartedAt.ToUnixTimeMilliseconds() / 1000m - 0.001m;
        // The audit record goes through kauditd: give it a moment to reach the log.
        await Task.Delay(500);
        var dmesg = await ProcessRunner.RunAsync("dmesg", [], TimeSpan.FromSeconds(10));
        Assert.True(dmesg.ExitCode == 0, $"dmesg failed (reading the kernel log needs root):\n{dmesg}");
        var pidText = $" pid={pid.ToString(CultureInfo.InvariantCulture)} ";
        return dmesg.StandardOutput.Split('\n')
            .Where(line => line.Contains("type=1326", StringComparison.Ordinal) && line.Contains(pidText, StringComparison.Ordinal))
            .Select(line => AuditRecord().Match(line))
            .Where(match => match.Success && decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= notBefore)
            .Select(match => new Violation(match.Groups[2].Value, int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture)))
            .ToList();
    }

    [GeneratedRegex("""audit\(([0-9]+\.[0-9]+):[0-9]+\).* comm="([^"]*)".* syscall=([0-9]+)""")]
    private static partial Regex AuditRecord();
}
