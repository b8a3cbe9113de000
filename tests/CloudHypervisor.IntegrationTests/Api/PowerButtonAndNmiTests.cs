using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Api;

/// <summary>
/// vm.nmi and vm.power-button over the API socket of the published binary, on KVM, seen from inside
/// the events guest: it prints each NMI and powers off through ACPI when the GED reports the power button.
/// </summary>
public sealed partial class PowerButtonAndNmiTests : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("ch-events-").FullName;

    private string Socket => Path.Combine(directory, "api.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [KvmFact]
    public async Task EachNmiReachesTheGuestAndThePowerButtonPowersItOffWhichEndsTheVmm()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", $"path={Socket}"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await CreateAndBootAsync(api, vmm);

        Assert.Equal(204, (await api.PutAsync("vm.nmi")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("events: nmi count=1"), "the guest to see the first NMI");
        Assert.Equal(204, (await api.PutAsync("vm.nmi")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("events: nmi count=2"), "the guest to see the second NMI");

        Assert.Equal(204, (await api.PutAsync("vm.power-button")).Status);
        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit.ExitCode == 0, $"a guest poweroff without --no-shutdown ends the VMM with status 0\n{exit}");
        var lines = SerialText.Lines(exit.StandardOutput);
        Assert.Equal(2, lines.Count(l => l.StartsWith("events: nmi", StringComparison.Ordinal)));
        Assert.Contains("events: ged status=0x08", lines);
        Assert.Equal("events: power-button", lines[^1]);
        Assert.False(File.Exists(Socket), "the API socket file is removed on a clean exit");
    }

    [KvmFact]
    public async Task WithNoShutdownThePowerButtonReturnsTheVmToCreatedAndItBootsAgain()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", $"path={Socket}", "--no-shutdown"]);
        using var api = await ApiSocketClient.ConnectAsync(Socket, TimeSpan.FromSeconds(10), vmm);
        await CreateAndBootAsync(api, vmm);

        Assert.Equal(204, (await api.PutAsync("vm.power-button")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("events: power-button"), "the guest to see the power button");
        await Eventually.HoldsAsync(() => api.GetAsync("vm.info").Result.Body.Contains("\"state\":\"Created\""), "the VM to be powered off");
        Assert.False(vmm.HasExited, $"--no-shutdown keeps the VMM running after a guest poweroff\n{vmm.StandardError}");
        Assert.Equal((500, """["Error from API","Error triggering NMI","VM is not running"]"""), await api.PutAsync("vm.nmi"));

        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        await Eventually.HoldsAsync(() => Eventually.Occurrences(vmm.StandardOutput, "events: ready") == 2, "the guest to boot again");
        Assert.Equal(204, (await api.PutAsync("vm.nmi")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("events: nmi count=1"), "an NMI in the second boot");
        Assert.Equal(204, (await api.PutAsync("vm.power-button")).Status);
        await Eventually.HoldsAsync(() => Eventually.Occurrences(vmm.StandardOutput, "events: power-button") == 2, "the power button in the second boot");
        await Eventually.HoldsAsync(() => api.GetAsync("vm.info").Result.Body.Contains("\"state\":\"Created\""), "the VM to be powered off again");

        Assert.Equal(200, (await api.PutAsync("vmm.shutdown")).Status);
        var exit = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.True(exit.ExitCode == 0, exit.ToString());
    }

    /// <summary>Both events need a running VM; then the guest finds its GED where the DSDT says (IRQ 13).</summary>
    private static async Task CreateAndBootAsync(ApiSocketClient api, RunningProcess vmm)
    {
        Assert.Equal((500, """["Error from API","Error triggering NMI","VM is not running"]"""), await api.PutAsync("vm.nmi"));
        Assert.Equal((500, """["Error from API","Error triggering power button","VM is not running"]"""), await api.PutAsync("vm.power-button"));

        Assert.Equal(204, (await api.PutAsync("vm.create", EventsConfig())).Status);
        Assert.Equal(204, (await api.PutAsync("vm.boot")).Status);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("events: ready") || vmm.HasExited, "the events guest to be ready");
        var lines = SerialText.Lines(vmm.StandardOutput);
        Assert.True(lines.Contains("events: ready"), $"the guest did not get ready\n{vmm.StandardOutput}\n{vmm.StandardError}");
        Assert.True(lines.Any(l => GedLine().IsMatch(l)), $"the guest found no GED at IRQ 13 in the DSDT\n{vmm.StandardOutput}");
    }

    private static string EventsConfig() =>
        "{\"payload\":{\"kernel\":\"" + GuestImages.PathOf(GuestImages.Events) +
        "\"},\"memory\":{\"size\":134217728},\"serial\":{\"mode\":\"Tty\"},\"console\":{\"mode\":\"Off\"}}";

    [GeneratedRegex("^events: ged address=0x[0-9a-f]+ irq=13$")]
    private static partial Regex GedLine();
}
