using System.Text.Json;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Api;

/// <summary>The VM lifecycle driven over the API socket of the published binary, on KVM, with the halt guest.</summary>
public sealed class ApiLifecycleTests : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("ch-api-").FullName;

    private string Socket => Path.Combine(directory, "api.sock");

    private string Events => Path.Combine(directory, "events.json");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [KvmFact]
    public async Task CreateBootPauseResumeRebootShutdownDeleteAsUpstream()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", $"path={Socket}", "--event-monitor", $"path={Events}"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);

        var ping = await api.GetAsync("vmm.ping");
        Assert.Equal(200, ping.Status);
        Assert.Contains("\"version\":\"54.0.0\"", ping.Body);
        Assert.Equal((404, """["Error from API","The VM info is not available","VM is not created"]"""), await api.GetAsync("vm.info"));

        Assert.Equal(204, (await api.PutAsync("vm.create", HaltConfig())).Status);
        Assert.Equal("Created", await StateAsync(api));

        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");
        Assert.Equal("Running", await StateAsync(api));
        Assert.Equal((500, """["Error from API","The VM could not boot","VM is already created"]"""), await api.PutAsync("vm.boot"));

        Assert.Equal(204, (await api.PutAsync("vm.pause")).Status);
        Assert.Equal("Paused", await StateAsync(api));
        Assert.Equal(
            (500, """["Error from API","The VM could not be paused","Cannot pause VM","Failed to pause migratable component","Invalid transition: InvalidStateTransition(Paused, Paused)"]"""),
            await api.PutAsync("vm.pause"));
        Assert.Equal(204, (await api.PutAsync("vm.resume")).Status);
        Assert.Equal("Running", await StateAsync(api));

        Assert.Equal(204, (await api.PutAsync("vm.reboot")).Status);
        await Eventually.HoldsAsync(() => Eventually.Occurrences(vmm.StandardOutput, "halt: ready") == 2, "the guest to boot again after vm.reboot");
        Assert.Equal("Running", await StateAsync(api));
        Assert.Equal((200, "{}"), await api.GetAsync("vm.counters"));

        Assert.Equal(204, (await api.PutAsync("vm.shutdown")).Status);
        Assert.Equal("Created", await StateAsync(api));
        Assert.Equal((500, """["Error from API","The VM could not shutdown","VM is not running"]"""), await api.PutAsync("vm.shutdown"));

        Assert.Equal(204, (await api.PutAsync("vm.delete")).Status);
        Assert.Equal(404, (await api.GetAsync("vm.info")).Status);

        Assert.Equal((200, string.Empty), await api.PutAsync("vmm.shutdown"));
        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.False(File.Exists(Socket), "the API socket file is removed on a clean exit");

        Assert.Equal(
            ["vmm/starting", "vm/booting", "vm/booted", "vm/pausing", "vm/paused", "vm/pausing", "vm/resuming", "vm/resumed",
                "vm/rebooting", "vm/rebooted", "vm/shutdown", "vm/deleted", "vmm/shutdown"],
            ReadEvents());
    }

    [KvmFact]
    public async Task CommandLineVmIsVisibleOverTheApiAndGuestPoweroffWithNoShutdownKeepsTheConfig()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", Socket, "--kernel", GuestImages.PathOf(GuestImages.Hello), "--serial", "tty", "--console", "off", "--no-shutdown"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);

        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hello: done") || vmm.HasExited, "the hello guest to finish");
        await Eventually.HoldsAsync(() => api.GetAsync("vm.info").Result.Body.Contains("\"state\":\"Created\""), "the VM to be shut down");
        Assert.False(vmm.HasExited, "--no-shutdown keeps the VMM running after a guest poweroff");

        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        await Eventually.HoldsAsync(() => Eventually.Occurrences(vmm.StandardOutput, "hello: boot=pvh") == 2, "a second boot of the same config");

        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
        Assert.Equal(0, (await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode);
    }

    [KvmFact]
    public async Task EventMonitorWritesToAnInheritedDescriptor()
    {
        // The shell opens descriptor 3 on the events file and hands it to the VMM, as an orchestrator would.
        await using var vmm = RunningProcess.Start("/bin/sh",
            ["-c", $"exec 3>'{Events}'; exec '{VmmBinary.Path}' --api-socket 'path={Socket}' --event-monitor fd=3"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);

        Assert.Equal(204, (await api.PutAsync("vm.create", HaltConfig())).Status);
        Assert.Equal(204, (await api.PutAsync("vm.delete")).Status);
        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);

        Assert.Equal(0, (await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode);
        Assert.Equal(["vmm/starting", "vm/deleted", "vmm/shutdown"], ReadEvents());
    }

    [KvmFact]
    public async Task InfoReportsThePseudoTerminalsOfPtyBackends()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Halt), "--serial", "pty", "--console", "pty"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await Eventually.HoldsAsync(() => api.GetAsync("vm.info").Result.Body.Contains("\"state\":\"Running\""), "the VM to run");

        using var json = JsonDocument.Parse((await api.GetAsync("vm.info")).Body);
        var config = json.RootElement.GetProperty("config");
        var serial = config.GetProperty("serial").GetProperty("file").GetString();
        var console = config.GetProperty("console").GetProperty("file").GetString();
        Assert.StartsWith("/dev/pts/", serial);
        Assert.StartsWith("/dev/pts/", console);
        Assert.NotEqual(serial, console);
        Assert.True(File.Exists(serial));

        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
    }

    [KvmFact]
    public async Task SigtermEndsTheVmmCleanlyAndRemovesTheSocket()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", $"path={Socket}"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        Assert.Equal(204, (await api.PutAsync("vm.create", HaltConfig())).Status);
        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        Assert.Equal(0, Kill(vmm.Id, 15));

        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.True(exit.ExitCode == 0, exit.ToString());
        Assert.False(File.Exists(Socket));
    }

    [KvmFact]
    public async Task ASecondInstanceOnTheSameSocketIsRefused()
    {
        await using var first = RunningProcess.Start(VmmBinary.Path, ["--api-socket", $"path={Socket}"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), first);
        Assert.Equal(200, (await api.GetAsync("vmm.ping")).Status);

        var second = await VmmBinary.RunAsync(["--api-socket", $"path={Socket}"], timeoutSeconds: 10);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"API socket \"{Socket}\" is already in use by another running instance", second.StandardError);
        Assert.Equal(200, (await api.GetAsync("vmm.ping")).Status);
    }

    private static string HaltConfig() =>
        "{\"payload\":{\"kernel\":\"" + GuestImages.PathOf(GuestImages.Halt) +
        "\"},\"memory\":{\"size\":134217728},\"serial\":{\"mode\":\"Tty\"},\"console\":{\"mode\":\"Off\"}}";

    private static async Task<string> StateAsync(ApiSocketClient api)
    {
        var (status, body) = await api.GetAsync("vm.info");
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("state").GetString()!;
    }

    private List<string> ReadEvents()
    {
        var events = new List<string>();
        foreach (var chunk in File.ReadAllText(Events).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(chunk);
            events.Add($"{json.RootElement.GetProperty("source").GetString()}/{json.RootElement.GetProperty("event").GetString()}");
        }

        return events;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
