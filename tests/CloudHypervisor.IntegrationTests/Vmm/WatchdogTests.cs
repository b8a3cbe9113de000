using System.Diagnostics;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// virtio-watchdog on KVM: the `virtio` guest pets it a few times and falls silent; upstream's
/// timer (checks every 15 s, limit 20 s) then resets the VM, which boots the guest again.
/// </summary>
public sealed class WatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [KvmFact]
    public async Task ASilentGuestIsResetByTheWatchdog()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "watchdog=3", "--serial", "tty", "--console", "off",
             "--memory", "size=128M", "--watchdog"]);

        var clock = Stopwatch.StartNew();
        while (Starts(vmm.StandardOutput) < 2)
        {
            Assert.False(vmm.HasExited || clock.Elapsed > Timeout,
                $"No reset within {Timeout.TotalSeconds} s (exited: {vmm.HasExited})\n--- stdout ---\n{vmm.StandardOutput}\n--- stderr ---\n{vmm.StandardError}");
            await Task.Delay(200);
        }

        var lines = SerialText.Lines(vmm.StandardOutput);
        Assert.Contains("virtio: devices=rng,watchdog", lines);
        Assert.Contains("virtio: watchdog pets=3 of 3", lines);
        Assert.Contains("virtio: watchdog silent", lines);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(20), $"reset after only {clock.Elapsed}");
        Assert.Contains("Watchdog triggered", vmm.StandardError + vmm.StandardOutput);
    }

    private static int Starts(string output) =>
        SerialText.Lines(output).Count(l => l == "virtio: guest kit virtio started");
}
