using System.Diagnostics;
using System.Text.Json;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// Disk rate limiting on KVM: the `virtio` guest reads a whole 4 MiB disk (`blk-crc`) through a 1 MiB/s bandwidth
/// bucket, which starts full, so the reads cannot finish in less than 3 s; only that lower bound is asserted
/// (generously). The same through a `--rate-limit-group`, whose configuration `vm.info` reports back.
/// </summary>
public sealed class DiskRateLimitTests : IDisposable
{
    private const int DiskBytes = 4 << 20;
    private const int BytesPerSecond = 1 << 20;

    // (4 MiB - the 1 MiB the full bucket lets through at once) at 1 MiB/s, less slack for timer granularity.
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(2.7);

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-blk-rl-");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task AGuestReadingPastTheBandwidthLimitTakesAtLeastTheTimeTheLimitImplies()
    {
        var (disk, crc) = await CreateDiskAsync();
        var clock = Stopwatch.StartNew();

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "blk-crc",
            ["--memory", "size=128M", "--disk", $"path={disk},bw_size={BytesPerSecond},bw_refill_time=1000"]);

        clock.Stop();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"virtio: blk disk-crc=0x{crc:x8} sectors={DiskBytes / 512}", result.StandardOutput);
        Assert.True(clock.Elapsed >= Floor, $"4 MiB at 1 MiB/s took only {clock.Elapsed.TotalSeconds:F2} s\n{result}");
    }

    [KvmFact]
    public async Task ARateLimitGroupLimitsItsDiskAndRoundTripsThroughVmInfo()
    {
        var (disk, crc) = await CreateDiskAsync();
        var socket = Path.Combine(directory.FullName, "api.sock");
        var clock = Stopwatch.StartNew();
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--api-socket", $"path={socket}", "--kernel", GuestImages.PathOf(GuestImages.Virtio), "--cmdline", "blk-crc",
             "--memory", "size=128M", "--serial", "tty", "--console", "off",
             "--rate-limit-group", $"id=group0,bw_size={BytesPerSecond},bw_one_time_burst=0,bw_refill_time=1000,ops_size=1000,ops_refill_time=100",
             "--disk", $"path={disk},rate_limit_group=group0"]);

        using (var api = await ApiSocketClient.ConnectAsync(socket, TimeSpan.FromSeconds(10), vmm))
        {
            var (status, body) = await api.GetAsync("vm.info");
            Assert.True(status == 200, body);
            using var info = JsonDocument.Parse(body);
            var config = info.RootElement.GetProperty("config");
            var group = Assert.Single(config.GetProperty("rate_limit_groups").EnumerateArray());
            Assert.Equal("group0", group.GetProperty("id").GetString());
            var limiter = group.GetProperty("rate_limiter_config");
            Assert.Equal(BytesPerSecond, limiter.GetProperty("bandwidth").GetProperty("size").GetInt64());
            Assert.Equal(0, limiter.GetProperty("bandwidth").GetProperty("one_time_burst").GetInt64());
            Assert.Equal(1000, limiter.GetProperty("bandwidth").GetProperty("refill_time").GetInt64());
            Assert.Equal(1000, limiter.GetProperty("ops").GetProperty("size").GetInt64());
            Assert.Equal(100, limiter.GetProperty("ops").GetProperty("refill_time").GetInt64());
            Assert.Equal("group0", Assert.Single(config.GetProperty("disks").EnumerateArray()).GetProperty("rate_limit_group").GetString());
        }

        var result = await vmm.WaitForExitAsync(TimeSpan.FromSeconds(60));
        clock.Stop();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"virtio: blk disk-crc=0x{crc:x8} sectors={DiskBytes / 512}", result.StandardOutput);
        Assert.True(clock.Elapsed >= Floor, $"4 MiB at 1 MiB/s took only {clock.Elapsed.TotalSeconds:F2} s\n{result}");
    }

    private async Task<(string Path, uint Crc)> CreateDiskAsync()
    {
        var path = Path.Combine(directory.FullName, "limited.img");
        var content = new byte[DiskBytes];
        new Random(7).NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        return (path, Crc32.Of(content));
    }
}
