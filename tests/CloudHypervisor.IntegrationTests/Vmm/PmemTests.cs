using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// virtio-pmem on KVM: the `virtio` guest maps the range the device reports (above 4 GiB, its own
/// memory slot), reads the file's content there, writes a byte and sends FLUSH; the file holds the
/// write afterwards, or stays unchanged with discard_writes=on.
/// </summary>
public sealed class PmemTests : IDisposable
{
    private const int Size = 2 << 20;
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-pmem-");
    private readonly byte[] content = new byte[Size];
    private readonly string file;

    public PmemTests()
    {
        for (var i = 0; i < content.Length; i++)
            content[i] = (byte)(i * 3 + 1);
        file = Path.Combine(directory.FullName, "pmem.img");
        File.WriteAllBytes(file, content);
    }

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task TheGuestReadsTheFileAndItsFlushedWriteLandsInIt()
    {
        var lines = await BootAsync("pmem-write=200", "file=" + file);

        var range = Fields(lines, "virtio: pmem start=");
        Assert.True(Convert.ToUInt64(range["start"], 16) >= 1UL << 32, $"pmem range below 4 GiB: {range["start"]}");
        Assert.Equal(0UL, Convert.ToUInt64(range["start"], 16) % (2UL << 20));
        Assert.Equal(Size.ToString(), range["size"]);
        Assert.Equal($"0x{Crc32(content.AsSpan(0, 4096)):x8}", range["crc4k"]);
        Assert.Contains("virtio: pmem write=200 readback=200", lines);
        Assert.Contains("virtio: pmem flush ok", lines);
        var after = await File.ReadAllBytesAsync(file);
        Assert.Equal(200, after[0]);
        Assert.True(after.AsSpan(1).SequenceEqual(content.AsSpan(1)), "bytes other than the one written changed");
    }

    [KvmFact]
    public async Task WithDiscardWritesTheFileStaysUnchanged()
    {
        var lines = await BootAsync("pmem-write=200", "file=" + file + ",discard_writes=on");

        Assert.Contains(lines, l => l.StartsWith("virtio: pmem start=", StringComparison.Ordinal));
        Assert.Contains("virtio: pmem flush ok", lines);
        Assert.Equal(content, await File.ReadAllBytesAsync(file));
    }

    [KvmFact]
    public async Task ASizeThatIsNotAMultipleOf2MiBFailsTheBoot()
    {
        File.WriteAllBytes(file, new byte[4096]);

        var result = await VmmBinary.BootAsync(GuestImages.Virtio, "", "--memory", "size=128M", "--pmem", "file=" + file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Trying to use a size that is not multiple of 2MiB", result.StandardError);
    }

    private static async Task<string[]> BootAsync(string cmdline, string pmem)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Virtio, cmdline, "--memory", "size=128M", "--pmem", pmem);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, l => l.StartsWith("exception:", StringComparison.Ordinal));
        Assert.Contains("virtio: devices=rng,pmem", lines);
        Assert.True(lines.LastOrDefault(l => l.StartsWith("virtio: ", StringComparison.Ordinal)) == "virtio: done", result.ToString());
        return lines;
    }

    /// <summary>zlib's CRC-32, as the guest kit computes it.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFF_FFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320u : crc >> 1;
        }

        return ~crc;
    }

    private static Dictionary<string, string> Fields(string[] lines, string prefix)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, $"No \"{prefix}\" line\n{string.Join('\n', lines)}");
        return line!["virtio: pmem ".Length..].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    }
}
