using System.Globalization;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Seccomp;

/// <summary>Every VMM thread runs in seccomp filter mode, as /proc shows it, with each filter installed once.</summary>
public class SeccompThreadsTests
{
    [KvmFact]
    public async Task EveryVmmThreadIsFilteredByDefault()
    {
        var directory = Directory.CreateTempSubdirectory("ch-seccomp-");
        try
        {
            await using var vmm = RunningProcess.Start(VmmBinary.Path,
                ["--api-socket", $"path={Path.Combine(directory.FullName, "api.sock")}", "--kernel", GuestImages.PathOf(GuestImages.Halt),
                 "--cpus", "boot=2", "--memory", "size=128M", "--serial", "tty", "--console", "off"]);
            await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

            // main and the VMM thread enter their filter once the command line's VM booted: every thread they created
            // before (vCPUs, devices, API server) then runs its own filter alone; the spawner, created later by main,
            // shares main's program. Every thread but the runtime's finalizer (older than Main) is filtered, including
            // any the runtime created on its own while main and the VMM thread were still unfiltered.
            await Eventually.HoldsAsync(() => Threads(vmm.Id).TryGetValue("spawner", out var spawner) && spawner.Mode == 2, "the spawner to start");
            var threads = Threads(vmm.Id);
            Assert.Equal((2, 1), threads["main"]);
            Assert.Equal((2, 1), threads["vmm"]);
            Assert.Equal((2, 1), threads["spawner"]);
            Assert.Equal((2, 1), threads["vcpu0"]);
            Assert.Equal((2, 1), threads["vcpu1"]);
            Assert.Equal((2, 1), threads["http-server"]);
            Assert.Equal((2, 1), threads[".NET SigHandler"]);
            // The finalizer thread keeps the process's name (main renames itself).
            Assert.Equal((0, 0), threads["cloud-hyperviso"]);
            Assert.All(threads.Where(t => t.Key != "cloud-hyperviso"), t => Assert.True(t.Value.Mode == 2, $"{t.Key} is not filtered ({string.Join(", ", threads.Keys)})"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [KvmFact]
    public async Task SeccompFalseLeavesThreadsUnfiltered()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--seccomp", "false", "--kernel", GuestImages.PathOf(GuestImages.Halt), "--memory", "size=128M", "--serial", "tty", "--console", "off"]);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        var threads = Threads(vmm.Id);
        Assert.Equal((0, 0), threads["vcpu0"]);
        Assert.Equal((0, 0), threads["vmm"]);
        Assert.False(threads.ContainsKey("spawner"));
    }

    /// <summary>comm → (Seccomp mode, number of filters) of each thread.</summary>
    private static Dictionary<string, (int Mode, int Filters)> Threads(int pid)
    {
        var threads = new Dictionary<string, (int, int)>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
            var status = File.ReadAllLines(Path.Combine(task, "status"));
            threads[name] = (Field(status, "Seccomp:"), Field(status, "Seccomp_filters:"));
        }

        return threads;
    }

    private static int Field(string[] status, string name) =>
        int.Parse(status.Single(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim(), CultureInfo.InvariantCulture);
}
