using System.Text;
using System.Text.Json;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Remote;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Api;

/// <summary>The published ch-remote driving the published cloud-hypervisor, as a user's scripts would.</summary>
public sealed class RemoteAgainstVmmTests : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("ch-remote-").FullName;

    private string Socket => Path.Combine(directory, "api.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [KvmFact]
    public async Task CreateFromStdinBootInfoPauseResumeAndShutdownTheVmm()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", Socket]);
        using (await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm))
        {
        }

        var ping = await Remote("ping");
        Assert.Equal(0, ping.ExitCode);
        using (var json = JsonDocument.Parse(ping.Stdout))
        {
            Assert.Equal(vmm.Id, json.RootElement.GetProperty("pid").GetInt32());
        }

        var info = await Remote("info");
        Assert.Equal(1, info.ExitCode);
        Assert.EndsWith(
            "Error: ch-remote exited with the following chain of errors:\n" +
            "  0: http client error\n" +
            "  1: Server responded with NotFound\n" +
            "  2: Error from API\n" +
            "  3: The VM info is not available\n" +
            "  4: VM is not created\n",
            info.Stderr);

        var config = "{\"payload\":{\"kernel\":\"" + GuestImages.PathOf(GuestImages.Halt) + "\"},\"memory\":{\"size\":134217728},"
            + "\"serial\":{\"mode\":\"Tty\"},\"console\":{\"mode\":\"Off\"}}";
        Assert.Equal(0, (await RemoteBinary.RunAsync(["--api-socket", Socket, "create"], Encoding.UTF8.GetBytes(config))).ExitCode);
        Assert.Equal(new RemoteResult(0, "", ""), await Remote("boot"));
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("halt: ready"), "the guest to boot");

        info = await Remote("info");
        Assert.Equal(0, info.ExitCode);
        Assert.EndsWith("\n", info.Stdout);
        Assert.DoesNotContain('\n', info.Stdout.TrimEnd('\n'));
        Assert.Contains("\"state\":\"Running\"", info.Stdout);

        Assert.Equal(0, (await Remote("pause")).ExitCode);
        Assert.Contains("\"state\":\"Paused\"", (await Remote("info")).Stdout);
        var again = await Remote("pause");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("  1: Server responded with InternalServerError\n  2: Error from API\n  3: The VM could not be paused\n  4: Cannot pause VM\n", again.Stderr);
        Assert.Equal(0, (await Remote("resume")).ExitCode);

        var missing = await Remote("add-disk", "path=/nonexistent.img,id=_disk0");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("  1: Server responded with InternalServerError\n", missing.Stderr);
        Assert.Contains("Error from device manager", missing.Stderr);
        Assert.Contains("No such file or directory (os error 2)", missing.Stderr);

        var shutdown = await Remote("shutdown-vmm");
        Assert.Equal(0, shutdown.ExitCode);
        Assert.Equal("\n", shutdown.Stdout);
        Assert.Equal(0, (await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode);
    }

    private Task<RemoteResult> Remote(params string[] arguments) => RemoteBinary.RunAsync(["--api-socket", Socket, .. arguments]);
}
