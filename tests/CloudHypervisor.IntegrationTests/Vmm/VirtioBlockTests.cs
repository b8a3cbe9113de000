using System.Globalization;
using System.Text.Json;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// `--disk` as the `virtio` guest's polling virtio-blk driver sees it on KVM: the checksum of the whole
/// disk, writes at the right offset, readonly, persistence, locking, counters and the PCI placement.
/// </summary>
public sealed class VirtioBlockTests : IDisposable
{
    private const int DiskSectors = 2048;

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-blk-");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task TheGuestsChecksumOfTheWholeDiskEqualsTheHosts()
    {
        var disk = await CreateDiskAsync("crc.img", 1);

        var lines = await BootAsync("blk-crc", "--disk", $"path={disk}");

        var content = await File.ReadAllBytesAsync(disk);
        Assert.Contains($"virtio: blk capacity={DiskSectors} sector0-crc=0x{Crc32.Of(content.AsSpan(0, 512)):x8}", lines);
        Assert.Contains($"virtio: blk disk-crc=0x{Crc32.Of(content):x8} sectors={DiskSectors}", lines);
        Assert.Contains("virtio: devices=blk,rng", lines);
    }

    [KvmFact]
    public async Task AWriteLandsAtItsSectorAndSurvivesTheVmmAfterFlush()
    {
        var disk = await CreateDiskAsync("write.img", 2);
        var before = await File.ReadAllBytesAsync(disk);

        var lines = await BootAsync("blk-write=77", "--disk", $"path={disk},image_type=raw");

        Assert.Contains("virtio: blk flush ok", lines);
        Assert.Contains("virtio: blk write sector=77 ok", lines);
        var after = await File.ReadAllBytesAsync(disk);
        var expected = (byte[])before.Clone();
        for (var i = 0; i < 512; i++)
            expected[77 * 512 + i] = (byte)((i * 7 + 77) % 256);
        Assert.Equal(expected, after);

        // A second VMM reads back what the first wrote before it exited.
        var again = await BootAsync("blk-crc", "--disk", $"path={disk}");
        Assert.Contains($"virtio: blk disk-crc=0x{Crc32.Of(after):x8} sectors={DiskSectors}", again);
    }

    /// <summary>The guest writes and flushes a sector, resets the machine through the i8042, and after the
    /// reboot (devices rebuilt, the image reopened) finds what it wrote.</summary>
    [KvmFact]
    public async Task AFlushedWriteSurvivesAGuestReboot()
    {
        var disk = await CreateDiskAsync("reboot.img", 4);

        var lines = await BootAsync("blk-persist=99", "--disk", $"path={disk},image_type=raw");

        var persist = lines.Where(l => l.StartsWith("virtio: blk persist", StringComparison.Ordinal)).ToList();
        Assert.Equal(["virtio: blk persist sector=99 written, rebooting", "virtio: blk persist sector=99 found"], persist);
        Assert.Equal(2, lines.Count(l => l == "virtio: guest kit virtio started"));
        var content = await File.ReadAllBytesAsync(disk);
        for (var i = 0; i < 512; i++)
            Assert.Equal((byte)((i * 7 + 99) % 256), content[99 * 512 + i]);
    }

    [KvmFact]
    public async Task ReadonlyDiskRefusesTheGuestsWrite()
    {
        var disk = await CreateDiskAsync("ro.img", 3);
        var before = await File.ReadAllBytesAsync(disk);

        var lines = await BootAsync("blk-write=5", "--disk", $"path={disk},readonly=on,image_type=raw");

        // The driver sees VIRTIO_BLK_F_RO and does not try (the device's refusal of writes is unit-tested).
        Assert.Contains("virtio: blk read-only", lines);
        Assert.DoesNotContain("virtio: blk write sector=5 ok", lines);
        Assert.Equal(before, await File.ReadAllBytesAsync(disk));
    }

    [KvmFact]
    public async Task AnAutodetectedRawImageRefusesWritesToSectorZero()
    {
        var disk = await CreateDiskAsync("sector0.img", 4);
        var before = await File.ReadAllBytesAsync(disk);

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "blk-write=0", ["--memory", "size=128M", "--disk", $"path={disk}"]);

        Assert.Contains("Autodetected raw image type. Disabling sector 0 writes.", result.StandardError);
        Assert.DoesNotContain("virtio: blk write sector=0 ok", result.StandardOutput);
        Assert.Equal(before, await File.ReadAllBytesAsync(disk));
    }

    [KvmFact]
    public async Task Qcow2ImagesAreRefusedAsNotSupportedYet()
    {
        var disk = Path.Combine(directory.FullName, "image.qcow2");
        var header = new byte[DiskSectors * 512];
        header[0] = 0x51;
        header[1] = 0x46;
        header[2] = 0x49;
        header[3] = 0xFB;
        await File.WriteAllBytesAsync(disk, header);

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "", ["--disk", $"path={disk}"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not supported yet: qcow2/VHD/VHDX images", result.StandardError);
    }

    [KvmFact]
    public async Task ASecondVmmCannotOpenADiskInUse()
    {
        var disk = await CreateDiskAsync("locked.img", 5);
        var socket = Path.Combine(directory.FullName, "api.sock");
        await using var first = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={socket}", "--kernel", GuestImages.PathOf(GuestImages.Halt), "--serial", "tty", "--console", "off", "--disk", $"path={disk}"]);
        await Eventually.HoldsAsync(() => first.StandardOutput.Contains("halt: ready"), "the first guest to boot");

        var second = await VmmBinary.BootAsync(GuestImages.Halt, "", ["--disk", $"path={disk}"]);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"Failed to get Write lock for disk image: {disk}", second.StandardError);
        Assert.Contains("The file is already locked", second.StandardError);

        // Counters and placement while the first VM runs: upstream's names, a 32-bit BAR for the cold-plugged disk.
        using var api = await ApiSocketClient.ConnectAsync(socket, TimeSpan.FromSeconds(10));
        var counters = await api.GetAsync("vm.counters");
        Assert.Equal(200, counters.Status);
        using var json = JsonDocument.Parse(counters.Body);
        var names = json.RootElement.GetProperty("_disk0").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(
            ["read_bytes", "read_ops", "write_bytes", "write_ops", "read_latency_min", "read_latency_max", "read_latency_avg",
             "write_latency_min", "write_latency_max", "write_latency_avg"],
            names);
        var info = await api.GetAsync("vm.info");
        using var infoJson = JsonDocument.Parse(info.Body);
        var node = infoJson.RootElement.GetProperty("device_tree").GetProperty("_virtio-pci-_disk0");
        Assert.Equal("0000:00:01.0", node.GetProperty("pci_bdf").GetString());
        var bar = node.GetProperty("resources")[0].GetProperty("PciBar");
        Assert.Equal("Mmio32", bar.GetProperty("type_").GetString());
        Assert.Equal(0xE7F8_0000UL, bar.GetProperty("base").GetUInt64());
    }

    [KvmFact]
    public async Task VmCountersShowTheGuestsReads()
    {
        var disk = Path.Combine(directory.FullName, "counted.img");
        await File.WriteAllBytesAsync(disk, new byte[64 << 20]);
        var socket = Path.Combine(directory.FullName, "api.sock");
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={socket}", "--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "blk-crc",
             "--memory", "size=128M", "--serial", "tty", "--console", "off", "--disk", $"path={disk}"]);
        using var api = await ApiSocketClient.ConnectAsync(socket, TimeSpan.FromSeconds(10), vmm);

        // The guest powers off once it has read the disk, so the counters are sampled while it reads.
        ulong readBytes = 0, readOps = 0;
        while (!vmm.HasExited && readBytes < 1 << 20)
        {
            try
            {
                var response = await api.GetAsync("vm.counters");
                if (response.Status == 200 && response.Body.Contains("_disk0", StringComparison.Ordinal))
                {
                    using var json = JsonDocument.Parse(response.Body);
                    var disk0 = json.RootElement.GetProperty("_disk0");
                    readBytes = disk0.GetProperty("read_bytes").GetUInt64();
                    readOps = disk0.GetProperty("read_ops").GetUInt64();
                }
            }
            catch (Exception) when (vmm.HasExited)
            {
                break;
            }

            await Task.Delay(20);
        }

        Assert.True(readBytes >= 1 << 20, $"vm.counters never showed a MiB read (last read_bytes={readBytes})\n{vmm.StandardOutput}");
        Assert.True(readOps > 0);
    }

    private async Task<string> CreateDiskAsync(string name, int seed)
    {
        var path = Path.Combine(directory.FullName, name);
        var content = new byte[DiskSectors * 512];
        new Random(seed).NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        return path;
    }

    private static async Task<string[]> BootAsync(string cmdline, params string[] extra)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Virtio, cmdline, ["--memory", "size=128M", .. extra]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.True(lines.LastOrDefault(l => l.StartsWith("virtio: ", StringComparison.Ordinal)) == "virtio: done", result.ToString());
        return lines;
    }
}
