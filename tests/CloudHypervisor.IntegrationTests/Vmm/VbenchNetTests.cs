using System.Globalization;
using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// The benchmark guest's multi-queue net workloads (scripts/bench) on the VMM, small, inside a network namespace of
/// the test's own with a multi-queue TAP: two pairs negotiated, every frame completed without error, and both pairs
/// carry frames. Receive is fed by scripts/bench/tap-blast.c (built here) sending 64 UDP flows, which the TAP
/// spreads over its queues.
/// </summary>
public sealed class VbenchNetTests : IDisposable
{
    public const int Frames = 20000;
    public const string Tap = "vbmq0";
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-vbench-net-");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmTheory]
    [InlineData("net-tx-mq")]
    [InlineData("net-rx-mq")]
    public async Task EveryFrameCompletesAndBothPairsCarryFrames(string mode)
    {
        await using var ns = await CreateNamespaceWithMultiQueueTapAsync();
        await using var blaster = mode == "net-rx-mq" ? await StartTapBlastAsync(ns, directory) : null;

        var vmm = await ProcessRunner.RunAsync("ip",
            ["netns", "exec", ns.Name, VmmBinary.Path, "--kernel", GuestImages.PathOf(GuestImages.Vbench),
             "--cmdline", $"{mode} pairs=2 frame=64 count={Frames}", "--serial", "tty", "--console", "off",
             "--memory", "size=128M", "--cpus", "boot=2", "--net", $"tap={Tap},num_queues=4"],
            TimeSpan.FromSeconds(60));

        Assert.True(vmm.ExitCode == 0, vmm.ToString());
        AssertBothPairsCarriedFrames(vmm.StandardOutput.Split('\n', StringSplitOptions.TrimEntries), mode, vmm.ToString());
    }

    internal static async Task<NetNamespace> CreateNamespaceWithMultiQueueTapAsync()
    {
        var ns = await NetNamespace.CreateAsync();
        var created = await ns.ExecAsync("ip", "tuntap", "add", "dev", Tap, "mode", "tap", "multi_queue");
        Assert.True(created.ExitCode == 0, created.ToString());
        var up = await ns.ExecAsync("ip", "link", "set", Tap, "up");
        Assert.True(up.ExitCode == 0, up.ToString());
        return ns;
    }

    /// <summary>tap-blast flooding the TAP with 64-byte frames of 64 UDP flows, once it says it is ready.</summary>
    internal static async Task<RunningProcess> StartTapBlastAsync(NetNamespace ns, DirectoryInfo directory)
    {
        var binary = Path.Combine(directory.FullName, "tap-blast");
        var built = await ProcessRunner.RunAsync("gcc",
            ["-O2", "-Wall", "-Werror", "-o", binary, Path.Combine(RepoPaths.Root, "scripts", "bench", "tap-blast.c")],
            TimeSpan.FromSeconds(60));
        Assert.True(built.ExitCode == 0, $"building tap-blast (needs gcc):\n{built}");
        var blaster = RunningProcess.Start("ip", ["netns", "exec", ns.Name, binary, Tap, "64", "64"]);
        for (var waited = 0; !blaster.StandardOutput.Contains("ready", StringComparison.Ordinal); waited += 20)
        {
            Assert.False(blaster.HasExited || waited > 10_000, $"tap-blast did not start:\n{blaster.StandardError}");
            await Task.Delay(20);
        }
        return blaster;
    }

    /// <summary>The result line says every frame completed without error; the per-pair line splits them over both pairs.</summary>
    public static void AssertBothPairsCarriedFrames(IReadOnlyList<string> lines, string mode, string context)
    {
        VbenchGuestTests.AssertCompleted(lines.Where(l => l.StartsWith($"vbench: {mode} pairs=2 ", StringComparison.Ordinal)).ToList(),
            Frames, 64, context);
        var perPair = Assert.Single(lines, l => l.StartsWith("vbench: per-pair requests=", StringComparison.Ordinal));
        var counts = perPair["vbench: per-pair requests=".Length..].Split(',').Select(n => long.Parse(n, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, counts.Length);
        Assert.Equal(Frames, counts.Sum());
        Assert.All(counts, n => Assert.True(n > 0, $"a pair carried no frames: {perPair}\n{context}"));
        Assert.Equal("vbench: done", lines.LastOrDefault(l => l.StartsWith("vbench: ", StringComparison.Ordinal)));
    }
}
