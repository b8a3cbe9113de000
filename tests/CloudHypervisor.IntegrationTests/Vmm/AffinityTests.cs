using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>`--cpus affinity=` pins each vCPU thread to its host CPUs, visible in /proc like any thread's mask.</summary>
public sealed class AffinityTests
{
    [KvmFact]
    public async Task EachVcpuThreadRunsOnlyOnItsHostCpus()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--kernel", GuestImages.PathOf(GuestImages.Halt), "--cpus", "boot=2,affinity=[0@[1],1@[0-1]]", "--memory", "size=128M",
                "--serial", "tty", "--console", "off"]);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        var allowed = new Dictionary<string, string>();
        foreach (var task in Directory.GetDirectories($"/proc/{vmm.Id}/task"))
        {
            var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
            var line = File.ReadAllLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:"));
            allowed[name] = line["Cpus_allowed_list:".Length..].Trim();
        }

        Assert.Equal("1", allowed["vcpu0"]);
        Assert.Equal("0-1", allowed["vcpu1"]);
    }
}
