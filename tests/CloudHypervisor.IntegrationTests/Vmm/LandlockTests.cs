using System.Text.Json;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Remote;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// `--landlock` and `landlock_enable` on KVM: the guest still reaches everything its configuration names,
/// files outside it stay out of reach (a disk added through the API is refused while the VM keeps running),
/// `--landlock-rules` widens the sandbox, and a kernel without Landlock degrades to a warning.
/// </summary>
public sealed class LandlockTests : IDisposable
{
    private const int DiskSectors = 2048;

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-landlock-");

    public void Dispose() => directory.Delete(recursive: true);

    private string Socket => Path.Combine(directory.FullName, "api.sock");

    [LandlockKvmFact]
    public async Task TheGuestReadsAndWritesItsDiskAndEventsAreStillReported()
    {
        var disk = CreateDisk("disk.img", 11);
        var events = Path.Combine(directory.FullName, "events.json");

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "blk-write=9 blk-crc",
            "--memory", "size=128M", "--disk", $"path={disk},image_type=raw", "--event-monitor", $"path={events}", "--landlock");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("virtio: blk write sector=9 ok", result.StandardOutput);
        Assert.Contains($"virtio: blk disk-crc=0x{Crc32.Of(File.ReadAllBytes(disk)):x8} sectors={DiskSectors}", result.StandardOutput);
        Assert.Contains("virtio: rng bytes=64", result.StandardOutput);
        Assert.Contains("\"event\": \"booted\"", File.ReadAllText(events));
    }

    [LandlockKvmFact]
    public async Task AFileSerialThatDoesNotExistYetAndAPtyConsoleWork()
    {
        var serial = Path.Combine(directory.FullName, "serial.log");

        var result = await VmmBinary.RunAsync(["--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "landlocked",
            "--serial", $"file={serial}", "--console", "pty", "--memory", "size=128M", "--landlock"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = File.ReadAllText(serial);
        Assert.Contains("hello: cmdline=landlocked", text);
        Assert.Contains("hello: done", text);
    }

    [LandlockKvmFact]
    public async Task HotAddingAnUnlistedDiskIsRefusedClearlyAndTheVmKeepsRunning()
    {
        var unlisted = CreateDisk("unlisted.img", 12);
        var listed = CreateDisk("listed.img", 13);
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--kernel", GuestImages.PathOf(GuestImages.Halt), "--serial", "tty",
            "--console", "off", "--memory", "size=128M", "--api-socket", Socket, "--landlock", "--landlock-rules", $"path={listed},access=rw"]);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        var refused = await Remote("add-disk", $"path={unlisted}");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(
            "  3: The disk could not be added to the VM\n" +
            "  4: The device is outside the Landlock sandbox\n" +
            $"  5: Access to {unlisted} is denied by the Landlock sandbox; allow it with --landlock-rules path={unlisted},access=rw (landlock_rules in vm.create)\n" +
            "  6: Permission denied (os error 13)\n",
            refused.Stderr);
        Assert.Contains("\"state\":\"Running\"", (await Remote("info")).Stdout);

        // A listed disk passes the sandbox and is hot plugged.
        var listedResult = await Remote("add-disk", $"path={listed}");
        Assert.True(listedResult.ExitCode == 0, listedResult.ToString());
        Assert.Contains("\"bdf\":\"0000:00:02.0\"", listedResult.Stdout);
        Assert.Contains(listed, (await Remote("info")).Stdout);

        Assert.Equal(0, (await Remote("shutdown-vmm")).ExitCode);
        Assert.Equal(0, (await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode);
    }

    [LandlockKvmFact]
    public async Task AnApiCreatedSandboxTakesListedDisksWhichTheGuestThenReads()
    {
        var unlisted = CreateDisk("unlisted.img", 14);
        var listed = CreateDisk("listed.img", 15);
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", Socket]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        var config = new
        {
            payload = new { kernel = GuestImages.PathOf(GuestImages.Virtio), cmdline = "blk-crc" },
            memory = new { size = 128L << 20 },
            serial = new { mode = "Tty" },
            console = new { mode = "Off" },
            landlock_enable = true,
            landlock_rules = new[] { new { path = listed, access = "rw" } },
        };
        Assert.Equal(204, (await api.PutAsync("vm.create", JsonSerializer.Serialize(config))).Status);

        var (status, body) = await api.PutAsync("vm.add-disk", JsonSerializer.Serialize(new { path = unlisted }));
        Assert.Equal(500, status);
        Assert.Equal(
            ["Error from API", "The disk could not be added to the VM", "The device is outside the Landlock sandbox",
             $"Access to {unlisted} is denied by the Landlock sandbox; allow it with --landlock-rules path={unlisted},access=rw (landlock_rules in vm.create)",
             "Permission denied (os error 13)"],
            JsonSerializer.Deserialize<string[]>(body)!);

        Assert.Equal(204, (await api.PutAsync("vm.add-disk", JsonSerializer.Serialize(new { path = listed }))).Status);
        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exit.ExitCode);
        Assert.Contains($"virtio: blk disk-crc=0x{Crc32.Of(File.ReadAllBytes(listed)):x8} sectors={DiskSectors}", exit.StandardOutput);
    }

    [LandlockKvmFact]
    public async Task EveryVmmThreadButTheRuntimesSignalThreadIsConfined()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--kernel", GuestImages.PathOf(GuestImages.Halt), "--serial", "tty",
            "--console", "off", "--memory", "size=128M", "--api-socket", Socket, "--event-monitor", $"path={Path.Combine(directory.FullName, "events")}",
            "--landlock"]);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        // no_new_privs is set per thread together with its Landlock domain (landlock_restrict_self needs it).
        var threads = Directory.GetDirectories($"/proc/{vmm.Id}/task").Select(task => (
            Name: File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'),
            Tid: int.Parse(Path.GetFileName(task)),
            NoNewPrivs: File.ReadLines(Path.Combine(task, "status")).Single(l => l.StartsWith("NoNewPrivs:")).EndsWith("1"))).ToList();

        Assert.Superset(new HashSet<string> { "vmm", "vcpu0", "http-server", "event-monitor" }, threads.Select(t => t.Name).ToHashSet());
        Assert.True(threads.Single(t => t.Tid == vmm.Id).NoNewPrivs, "main thread");
        Assert.All(threads.Where(t => t.Name != ".NET SigHandler"), t => Assert.True(t.NoNewPrivs, $"{t.Name} ({t.Tid}) is not confined"));
    }

    [KvmFact]
    public async Task OnAKernelWithoutLandlockTheVmBootsUnconfinedWithAWarning()
    {
        var result = await ProcessRunner.RunAsync("python3", [Path.Combine(RepoPaths.Root, "test_data", "landlock", "without-landlock.py"),
            VmmBinary.Path, "--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "degraded", "--serial", "tty", "--console", "off",
            "--memory", "size=128M", "--landlock"], TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("hello: cmdline=degraded", result.StandardOutput);
        Assert.Contains("Landlock is not supported by the host kernel: the VM runs without its Landlock sandbox", result.StandardError);
    }

    [Theory]
    [InlineData("path=/tmp", "  1: Error parsing --landlock-rules: path/access field missing\n")]
    [InlineData("access=rw", "  1: Error parsing --landlock-rules: path/access field missing\n")]
    [InlineData("path=/tmp,access=rwx", "  1: Error parsing --landlock-rules\n  2: Invalid value: rwx\n")]
    [InlineData("path=/tmp,access=rw,mode=1", "  1: Error parsing --landlock-rules\n  2: Unknown option: mode\n")]
    [InlineData("path=/tmp,access=x", "  1: Error validating configuration\n  2: access provided in landlock-rules in invalid\n")]
    [InlineData("path=/nonexistent-landlock-path,access=r",
        "  1: Error validating configuration\n  2: Path \"/nonexistent-landlock-path\" provided in landlock-rules does not exist\n")]
    public async Task LandlockRulesErrorsAreUpstreams(string rule, string chain)
    {
        var result = await VmmBinary.RunAsync(["--kernel", "/nonexistent-kernel", "--landlock", "--landlock-rules", rule]);

        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("Error: Cloud Hypervisor exited with the following chain of errors:\n  0: Error parsing config\n" + chain, result.StandardError);
    }

    private Task<RemoteResult> Remote(params string[] arguments) => RemoteBinary.RunAsync(["--api-socket", Socket, .. arguments]);

    private string CreateDisk(string name, int seed)
    {
        var path = Path.Combine(directory.FullName, name);
        var content = new byte[DiskSectors * 512];
        new Random(seed).NextBytes(content);
        File.WriteAllBytes(path, content);
        return path;
    }
}
