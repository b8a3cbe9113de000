using CloudHypervisor.IntegrationTests.GuestKit;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// The benchmark guest's workloads (scripts/bench) on the VMM, small: many virtio-blk requests in flight,
/// sequential and random, reads and writes, every one completed with an OK status; the writes land.
/// </summary>
public sealed class VbenchTests : IDisposable
{
    private const int DiskBytes = 4 << 20;
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-vbench-");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmTheory]
    [InlineData("blk-read bs=1048576 qd=4 count=16", 16, 1048576)]
    [InlineData("blk-randread bs=4096 qd=32 count=3000", 3000, 4096)]
    [InlineData("blk-randwrite bs=4096 qd=32 count=3000", 3000, 4096)]
    public async Task EveryRequestCompletesWithoutError(string cmdline, int requests, int blockSize)
    {
        var disk = Path.Combine(directory.FullName, "disk.raw");
        await File.WriteAllBytesAsync(disk, new byte[DiskBytes]);

        var result = await VmmBinary.BootAsync(GuestImages.Vbench, cmdline,
            ["--memory", "size=128M", "--disk", $"path={disk},image_type=raw"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        VbenchGuestTests.AssertCompleted(lines.Where(l => l.StartsWith("vbench: blk", StringComparison.Ordinal)).ToList(),
            requests, blockSize, result.ToString());
        Assert.Equal("vbench: done", lines.LastOrDefault(l => l.StartsWith("vbench: ", StringComparison.Ordinal)));
        if (cmdline.StartsWith("blk-randwrite", StringComparison.Ordinal))
        {
            // Each 4 KiB page of the guest's buffers starts with an odd byte (its page number | 1), the rest zero:
            // random writes leave non-zero bytes only at 4 KiB boundaries.
            var content = await File.ReadAllBytesAsync(disk);
            Assert.Contains(content, b => b != 0);
            for (var i = 0; i < content.Length; i++)
                if (content[i] != 0)
                    Assert.True(i % 4096 == 0, $"byte {i} is 0x{content[i]:x2}, written outside a page's first byte");
        }
    }
}
