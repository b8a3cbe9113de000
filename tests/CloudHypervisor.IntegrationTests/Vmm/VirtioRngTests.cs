using System.Globalization;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// The VMM's virtio-rng (1af4:1044, present by default, fed from /dev/urandom unless --rng src=...)
/// as the `virtio` guest's polling virtio-pci modern driver sees it on KVM.
/// </summary>
public class VirtioRngTests
{
    [KvmFact]
    public async Task DefaultRngDeliversRandomBytesToTheGuestDriver()
    {
        var lines = await BootVirtioGuestAsync("rng=64");

        Assert.Contains("virtio: devices=rng", lines);
        var fields = RngFields(lines);
        Assert.Equal("64", fields["bytes"]);
        var nonzero = int.Parse(fields["nonzero"], CultureInfo.InvariantCulture);
        Assert.True(nonzero >= 56, $"Only {nonzero} of 64 bytes are nonzero\n{string.Join('\n', lines)}");
    }

    [KvmFact]
    public async Task RngSourceFileIsWhatTheGuestReads()
    {
        var directory = Directory.CreateTempSubdirectory("ch-rng-");
        try
        {
            var source = Path.Combine(directory.FullName, "entropy");
            var content = new byte[4096];
            for (var i = 0; i < content.Length; i++)
                content[i] = (byte)(i * 13 + 1);
            await File.WriteAllBytesAsync(source, content);

            var lines = await BootVirtioGuestAsync("rng=64", "--rng", "src=" + source);

            var fields = RngFields(lines);
            Assert.Equal("64", fields["bytes"]);
            Assert.Equal($"0x{Fnv1a(content.AsSpan(0, 64)):x8}", fields["fnv1a"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string[]> BootVirtioGuestAsync(string cmdline, params string[] extra)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Virtio, cmdline, ["--memory", "size=128M", .. extra]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, l => l.StartsWith("exception:", StringComparison.Ordinal));
        Assert.True(lines.LastOrDefault(l => l.StartsWith("virtio: ", StringComparison.Ordinal)) == "virtio: done", result.ToString());
        return lines;
    }

    /// <summary>The fields of "virtio: rng bytes=N nonzero=M fnv1a=0x..".</summary>
    private static Dictionary<string, string> RngFields(string[] lines)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith("virtio: rng bytes=", StringComparison.Ordinal));
        Assert.True(line is not null, $"No \"virtio: rng bytes=\" line\n{string.Join('\n', lines)}");
        return line!["virtio: rng ".Length..].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    }

    private static uint Fnv1a(ReadOnlySpan<byte> data)
    {
        var hash = 2166136261u;
        foreach (var b in data)
            hash = (hash ^ b) * 16777619u;
        return hash;
    }
}
