using System.Text.Json;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Remote;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// ACPI PCI hotplug on KVM, driven by the published ch-remote and seen by the `hotplug` guest acting as the OS:
/// it handles the GED interrupt, reads PHPR, drives the added virtio-blk function and ejects removed slots.
/// </summary>
public sealed class HotplugTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-hotplug-");

    private string Socket => Path.Combine(directory.FullName, "api.sock");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task AHotAddedDiskIsReadByTheGuestAndARemovedOneIsEjectedAndGone()
    {
        var disk = Path.Combine(directory.FullName, "disk.img");
        var content = new byte[1 << 20];
        Random.Shared.NextBytes(content);
        await File.WriteAllBytesAsync(disk, content);
        var events = Path.Combine(directory.FullName, "events.json");

        await using var vmm = await BootAsync("--event-monitor", "path=" + events);

        var add = await Remote("add-disk", $"path={disk}");
        Assert.True(add.ExitCode == 0, add.ToString());
        using (var info = JsonDocument.Parse(add.Stdout))
        {
            Assert.Equal("_disk0", info.RootElement.GetProperty("id").GetString());
            Assert.Equal("0000:00:02.0", info.RootElement.GetProperty("bdf").GetString());
        }

        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: added slot=2"), "the guest to see slot 2 come up");
        Assert.Contains($"hotplug: added slot=2 blk sector0-crc=0x{Crc32.Of(content.AsSpan(0, 512)):x8}", SerialText.Lines(vmm.StandardOutput));
        var tree = await Remote("info");
        Assert.Contains("\"_virtio-pci-_disk0\"", tree.Stdout);
        Assert.Contains(disk, tree.Stdout);

        Assert.Equal(0, (await Remote("remove-device", "_disk0")).ExitCode);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: ejected slot=2"), "the guest to eject slot 2");
        await Eventually.HoldsAsync(
            () => File.ReadAllText(events).Contains("device-removed"), "the VMM to unplug the ejected device");
        Assert.Matches("\"event\":\\s*\"device-removed\",\\s*\"properties\":\\s*\\{[^}]*\"id\":\\s*\"_disk0\"", await File.ReadAllTextAsync(events));
        tree = await Remote("info");
        Assert.DoesNotContain("_disk0", tree.Stdout);
        Assert.DoesNotContain(disk, tree.Stdout);

        var again = await Remote("remove-device", "_disk0");
        Assert.Equal(1, again.ExitCode);

        // The slot and BAR are free again: the next disk lands where the first did, and the guest reads it.
        var second = await Remote("add-disk", $"path={disk},id=again");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("\"bdf\":\"0000:00:02.0\"", second.Stdout);
        await Eventually.HoldsAsync(
            () => Eventually.Occurrences(vmm.StandardOutput, "hotplug: added slot=2 blk sector0-crc=") == 2, "the guest to read the second disk");
    }

    [KvmFact]
    public async Task AHotAddOfAMissingImageFailsCleanlyAndTheVmKeepsRunning()
    {
        await using var vmm = await BootAsync();

        var missing = Path.Combine(directory.FullName, "missing.img");
        var add = await Remote("add-disk", $"path={missing}");
        Assert.Equal(1, add.ExitCode);
        Assert.Contains("Error from device manager", add.Stderr);
        Assert.Contains("No such file or directory", add.Stderr);

        var info = await Remote("info");
        Assert.Contains("\"state\":\"Running\"", info.Stdout);
        Assert.DoesNotContain(missing, info.Stdout);
        Assert.DoesNotContain("hotplug: added", vmm.StandardOutput);

        // Nothing was left taken: a good disk gets the first free slot.
        var disk = Path.Combine(directory.FullName, "disk.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20]);
        var good = await Remote("add-disk", $"path={disk}");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.Contains("\"bdf\":\"0000:00:02.0\"", good.Stdout);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: added slot=2 blk"), "the guest to read the good disk");

        var duplicate = await Remote("add-disk", $"path={disk},id=_disk0");
        Assert.Equal(1, duplicate.ExitCode);
    }

    [KvmFact]
    public async Task AVsockDeviceCanBeHotPluggedAndRemoved()
    {
        var socket = Path.Combine(directory.FullName, "vsock.sock");
        await using var vmm = await BootAsync();

        var add = await Remote("add-vsock", $"cid=3,socket={socket}");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("{\"id\":\"_vsock0\",\"bdf\":\"0000:00:02.0\"}", add.Stdout);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: added slot=2 type=vsock"), "the guest to see the vsock function");
        Assert.True(File.Exists(socket), "the hot-plugged vsock device listens on its socket");
        Assert.Equal(1, (await Remote("add-vsock", $"cid=4,socket={socket}_2")).ExitCode);

        Assert.Equal(0, (await Remote("remove-device", "_vsock0")).ExitCode);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: ejected slot=2"), "the guest to eject slot 2");
        await Eventually.HoldsAsync(() => !Remote("info").Result.Stdout.Contains("_vsock0"), "the VMM to unplug the vsock device");
        Assert.False(File.Exists(socket), "the socket goes with the device");
    }

    [KvmFact]
    public async Task APmemDeviceCanBeHotPluggedAndRemovedAndItsRangeIsFreeAgain()
    {
        var file = Path.Combine(directory.FullName, "pmem.img");
        await File.WriteAllBytesAsync(file, new byte[2 << 20]);
        await using var vmm = await BootAsync();

        var add = await Remote("add-pmem", $"file={file}");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("{\"id\":\"_pmem0\",\"bdf\":\"0000:00:02.0\"}", add.Stdout);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: added slot=2 type=pmem"), "the guest to see the pmem function");
        var info = (await Remote("info")).Stdout;
        var range = System.Text.RegularExpressions.Regex.Match(info, "\"MmioAddressRange\":\\{\"base\":(\\d+)");
        Assert.True(range.Success, info);

        Assert.Equal(0, (await Remote("remove-device", "_pmem0")).ExitCode);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: ejected slot=2"), "the guest to eject slot 2");
        await Eventually.HoldsAsync(() => !Remote("info").Result.Stdout.Contains("_pmem0"), "the VMM to unplug the pmem device");

        // The range and its memory slot were given back: the same file maps at the same place again.
        Assert.Equal(0, (await Remote("add-pmem", $"file={file},id=again")).ExitCode);
        Assert.Contains($"\"MmioAddressRange\":{{\"base\":{range.Groups[1].Value}", (await Remote("info")).Stdout);
        Assert.False(vmm.HasExited, vmm.StandardError);
    }

    [KvmFact]
    public async Task ANetDeviceCanBeHotPluggedAndRemovedInsideANetworkNamespace()
    {
        await using var ns = await NetNamespace.CreateAsync();
        await using var vmm = await BootUnderAsync(["ip", "netns", "exec", ns.Name]);

        var add = await Remote("add-net", "tap=hp0,mac=2e:00:00:00:00:01");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("{\"id\":\"_net0\",\"bdf\":\"0000:00:02.0\"}", add.Stdout);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: added slot=2 type=net"), "the guest to see the net function");
        Assert.Equal(0, (await ns.ExecAsync("ip", "link", "show", "hp0")).ExitCode);

        Assert.Equal(0, (await Remote("remove-device", "_net0")).ExitCode);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: ejected slot=2"), "the guest to eject slot 2");
        await Eventually.HoldsAsync(() => !Remote("info").Result.Stdout.Contains("_net0"), "the VMM to unplug the net device");
        await Eventually.HoldsAsync(() => ns.ExecAsync("ip", "link", "show", "hp0").Result.ExitCode != 0, "the TAP the VMM created to go with the device");
    }

    /// <summary>Console off, so the default VM has the host bridge (00:00.0) and virtio-rng (00:01.0): the first free slot is 2.</summary>
    private Task<RunningProcess> BootAsync(params string[] extra) => BootUnderAsync([], extra);

    /// <param name="wrapper">A command the VMM runs under (e.g. <c>ip netns exec NS</c>).</param>
    private async Task<RunningProcess> BootUnderAsync(string[] wrapper, params string[] extra)
    {
        string[] command =
        [
            VmmBinary.Path, "--api-socket", $"path={Socket}", "--kernel", GuestImages.PathOf(GuestImages.Hotplug), "--memory", "size=128M",
            "--serial", "tty", "--console", "off", .. extra,
        ];
        string[] full = [.. wrapper, .. command];
        var vmm = RunningProcess.Start(full[0], full[1..]);
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("hotplug: ready") || vmm.HasExited, "the hotplug guest to be ready");
        Assert.True(vmm.StandardOutput.Contains("hotplug: ready"), $"the guest found no GED or PHPR (exited: {vmm.HasExited}, {vmm.CommandLine})\n{vmm.StandardOutput}\n{vmm.StandardError}");
        return vmm;
    }

    private Task<RemoteResult> Remote(params string[] argv) => RemoteBinary.RunAsync(["--api-socket", Socket, .. argv]);
}
