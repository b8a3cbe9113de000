using System.Diagnostics;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Seccomp;

/// <summary>
/// The representative scenarios of the suite run with <c>--seccomp log</c>: a syscall a thread's filter does not
/// list is then allowed but recorded in the kernel log (see <see cref="SeccompViolations"/>), so any record for
/// the VMM's pid means a filter misses something the VMM needs. (The rest of the suite runs with the default,
/// <c>--seccomp true</c>, where such a syscall kills the VMM.)
/// </summary>
public class SeccompLogSweepTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static string[] Virtio(string cmdline, params string[] extra) =>
        ["--seccomp", "log", "--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", cmdline, "--serial", "tty",
         "--console", "off", "--memory", "size=128M", .. extra];

    [KvmTheory]
    [InlineData("rng=64")]
    [InlineData("pvpanic=1", "--pvpanic")]
    public async Task VirtioGuest(string cmdline, params string[] extra) =>
        await AssertNoViolationAsync(VmmBinary.Path, Virtio(cmdline, extra), expectGuestDone: true);

    [KvmFact]
    public async Task VirtioBlockReadsAndWrites()
    {
        using var files = new TempFiles();
        var disk = files.Create("disk.img", 1 << 20);
        await AssertNoViolationAsync(VmmBinary.Path, Virtio("blk-write=77", "--disk", $"path={disk},image_type=raw"), expectGuestDone: true);
        await AssertNoViolationAsync(VmmBinary.Path, Virtio("blk-crc", "--disk", $"path={disk},direct=on"), expectGuestDone: true);
    }

    [KvmFact]
    public async Task VirtioPmem()
    {
        using var files = new TempFiles();
        var file = files.Create("pmem.img", 2 << 20);
        await AssertNoViolationAsync(VmmBinary.Path, Virtio("pmem-write=200", "--pmem", $"file={file}"), expectGuestDone: true);
    }

    [KvmTheory]
    [InlineData("file")]
    [InlineData("pty")]
    [InlineData("null")]
    public async Task VirtioConsole(string mode)
    {
        using var files = new TempFiles();
        var console = mode == "file" ? $"file={files.PathOf("console.txt")}" : mode;
        var arguments = Virtio("console").ToList();
        arguments[arguments.IndexOf("off")] = console;
        await AssertNoViolationAsync(VmmBinary.Path, arguments, expectGuestDone: true);
    }

    [KvmTheory]
    [InlineData("pty")]
    [InlineData("socket")]
    [InlineData("file")]
    public async Task SerialBackends(string mode)
    {
        using var files = new TempFiles();
        var serial = mode switch
        {
            "socket" => $"socket={files.PathOf("serial.sock")}",
            "file" => $"file={files.PathOf("serial.txt")}",
            _ => mode,
        };
        await AssertNoViolationAsync(VmmBinary.Path,
            ["--seccomp", "log", "--kernel", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "hi", "--serial", serial, "--console", "off", "--memory", "size=128M"],
            expectGuestDone: false);
    }

    [KvmFact]
    public async Task SmpGuestWithEventMonitor()
    {
        using var files = new TempFiles();
        await AssertNoViolationAsync(VmmBinary.Path,
            ["--seccomp", "log", "--kernel", GuestImages.PathOf(GuestImages.Smp), "--cmdline", "smp", "--serial", "tty", "--console", "off",
             "--cpus", "boot=2,affinity=[0@[0],1@[0-1]]", "--event-monitor", $"path={files.PathOf("events.json")}", "-v"],
            expectGuestDone: false);
    }

    [KvmFact]
    public async Task VirtioNetOverTap()
    {
        await using var ns = await NetNamespace.CreateAsync();
        await using var vmm = RunningProcess.Start("ip",
            ["netns", "exec", ns.Name, VmmBinary.Path, .. Virtio("net", "--net", "tap=chtap0,mac=12:34:56:78:9a:bc,ip=192.168.249.1,mask=255.255.255.0")]);
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("virtio: done", result.StandardOutput);
        Assert.Empty(await SeccompViolations.OfProcessAsync(vmm));
    }

    [KvmFact]
    public async Task WatchdogResetsASilentGuest()
    {
        // The expiry check runs on a runtime timer and pool threads the watchdog thread creates.
        await using var vmm = RunningProcess.Start(VmmBinary.Path, Virtio("watchdog=3", "--watchdog"));
        var clock = Stopwatch.StartNew();
        while (!(vmm.StandardError + vmm.StandardOutput).Contains("Watchdog triggered", StringComparison.Ordinal))
        {
            Assert.False(vmm.HasExited || clock.Elapsed > Timeout, $"no watchdog reset\n{vmm.StandardOutput}\n{vmm.StandardError}");
            await Task.Delay(200);
        }

        await Task.Delay(1000);
        Assert.False(vmm.HasExited, $"the VMM died\n{vmm.StandardError}");
        Assert.Empty(await SeccompViolations.OfProcessAsync(vmm));
    }

    [KvmFact]
    public async Task ApiLifecycleAndSigterm()
    {
        using var files = new TempFiles();
        var socket = files.PathOf("api.sock");
        var disk = files.Create("disk.img", 1 << 20);
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--seccomp", "log", "--api-socket", $"path={socket}", "--event-monitor", $"path={files.PathOf("events.json")}"]);
        using var api = await ApiSocketClient.ConnectAsync(socket, TimeSpan.FromSeconds(10), vmm);

        var vm = """{"payload":{"kernel":"KERNEL"},"serial":{"mode":"Pty"},"console":{"mode":"Pty"},"memory":{"size":134217728}}"""
            .Replace("KERNEL", GuestImages.PathOf(GuestImages.Halt), StringComparison.Ordinal);
        await Expect(204, api.PutAsync("vm.create", vm));
        await Expect(0, api.PutAsync("vm.add-disk", $$"""{"path":"{{disk}}","image_type":"Raw"}"""));
        await Expect(204, api.PutAsync("vm.boot"));
        await Expect(200, api.GetAsync("vm.info"));
        await Expect(200, api.GetAsync("vm.counters"));
        await Expect(204, api.PutAsync("vm.pause"));
        await Expect(204, api.PutAsync("vm.resume"));
        await Expect(204, api.PutAsync("vm.reboot"));
        await Expect(200, api.GetAsync("vm.info"));
        await Expect(204, api.PutAsync("vm.power-button"));
        await Expect(204, api.PutAsync("vm.shutdown"));
        await Expect(204, api.PutAsync("vm.delete"));
        await Expect(204, api.PutAsync("vm.create", vm));
        await Expect(204, api.PutAsync("vm.boot"));

        // SIGTERM goes through the runtime's signal thread and the thread it starts for the handler.
        _ = await ProcessRunner.RunAsync("kill", ["-TERM", vmm.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        var result = await vmm.WaitForExitAsync(Timeout);
        Assert.Empty(await SeccompViolations.OfProcessAsync(vmm));
        Assert.False(result.TimedOut, result.ToString());
    }

    private static async Task Expect(int status, Task<(int Status, string Body)> request)
    {
        var (actual, body) = await request;
        // 0: any success (2xx).
        Assert.True(status == 0 ? actual is >= 200 and < 300 : actual == status, $"HTTP {actual} instead of {status}: {body}");
    }

    private static async Task AssertNoViolationAsync(string binary, IEnumerable<string> arguments, bool expectGuestDone)
    {
        await using var vmm = RunningProcess.Start(binary, arguments);
        vmm.CloseStandardInput();
        var result = await vmm.WaitForExitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        if (expectGuestDone)
        {
            Assert.Contains("virtio: done", result.StandardOutput);
        }

        var violations = await SeccompViolations.OfProcessAsync(vmm);
        Assert.True(violations.Count == 0, $"seccomp violations: {string.Join(", ", violations)}\n{result}");
    }

    private sealed class TempFiles : IDisposable
    {
        private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-seccomp-");

        public string PathOf(string name) => Path.Combine(directory.FullName, name);

        public string Create(string name, long size)
        {
            var path = PathOf(name);
            using var file = File.Create(path);
            file.SetLength(size);
            return path;
        }

        public void Dispose() => directory.Delete(recursive: true);
    }
}
