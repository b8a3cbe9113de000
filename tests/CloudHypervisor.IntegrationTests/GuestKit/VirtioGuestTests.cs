using System.Globalization;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The virtio guest's polling virtio-pci modern drivers against QEMU's modern-only devices (the
/// reference VMM): entropy arrives through virtio-rng; virtio-blk reports the image's capacity and
/// CRC-32s equal to the host's, and a written sector lands at its offset in the host file.
/// </summary>
public sealed class VirtioGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int SectorBytes = 512;
    private const int ImageSectors = 2048;

    [QemuFact]
    public async Task Q35_rng_delivers_the_requested_bytes()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
            {
                Machine = QemuMachine.Q35,
                CommandLine = "rng=64",
                ExtraArguments = ["-device", "virtio-rng-pci,disable-legacy=on"],
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        Assert.Equal("virtio: devices=rng", result.LinesStartingWith("virtio: ").Skip(1).FirstOrDefault());
        AssertRandomBytesArrived(result, 64);
        GuestAssert.EndsWithDone(result, "virtio");
    }

    [QemuFact]
    public async Task Q35_blk_capacity_and_crcs_equal_the_host_image()
    {
        using var disk = TestDisk.Create();
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
            {
                Machine = QemuMachine.Q35,
                CommandLine = "blk-crc",
                ExtraArguments = disk.QemuArguments,
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        GuestAssert.HasLine(result, "virtio: devices=blk");
        GuestAssert.HasLine(result, $"virtio: blk capacity={ImageSectors} sector0-crc={Hex(Crc32.Of(disk.Original.AsSpan(0, SectorBytes)))}");
        GuestAssert.HasLine(result, $"virtio: blk disk-crc={Hex(Crc32.Of(disk.Original))} sectors={ImageSectors}");
        Assert.True(disk.Original.AsSpan().SequenceEqual(disk.ReadHostFile()), "The read-only run changed the image");
        GuestAssert.EndsWithDone(result, "virtio");
    }

    [QemuFact]
    public async Task Q35_blk_write_lands_at_its_offset_in_the_host_file_after_flush()
    {
        const int sector = 37;
        using var disk = TestDisk.Create();
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
            {
                Machine = QemuMachine.Q35,
                CommandLine = $"blk-write={sector} blk-crc",
                ExtraArguments = disk.QemuArguments,
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        GuestAssert.HasLine(result, "virtio: blk flush ok");
        GuestAssert.HasLine(result, $"virtio: blk write sector={sector} ok");

        var expected = (byte[])disk.Original.Clone();
        for (var i = 0; i < SectorBytes; i++)
            expected[sector * SectorBytes + i] = (byte)(i * 7 + sector);
        var actual = disk.ReadHostFile();
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"The host file differs from the original plus sector {sector}'s pattern\n{result}");
        GuestAssert.HasLine(result, $"virtio: blk disk-crc={Hex(Crc32.Of(actual))} sectors={ImageSectors}");
        GuestAssert.EndsWithDone(result, "virtio");
    }

    /// <summary>A 2 GiB ivshmem BAR leaves SeaBIOS no room below 4 GiB, so it puts every 64-bit BAR
    /// high: the guest maps the capability regions with map_high_page.</summary>
    [QemuFact]
    public async Task Q35_capabilities_in_64_bit_bars_above_4_gib_are_mapped()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
            {
                Machine = QemuMachine.Q35,
                CommandLine = "rng=64",
                ExtraArguments =
                [
                    "-device", "virtio-rng-pci,disable-legacy=on",
                    "-object", "memory-backend-ram,id=shm,size=2G", "-device", "ivshmem-plain,memdev=shm",
                ],
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        var device = Assert.Single(result.LinesStartingWith("virtio: 00:"));
        var common = GuestAssert.Fields(device)["common"];
        Assert.True(ulong.Parse(common[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) >= 1UL << 32,
            $"The rng's common configuration is below 4 GiB: the test no longer covers high BARs\n{result}");
        AssertRandomBytesArrived(result, 64);
        GuestAssert.EndsWithDone(result, "virtio");
    }

    /// <summary>microvm's PCIe host has no firmware to place BARs (and no MCFG): the guest finds ECAM
    /// through the DSDT's _CBA and assigns the BARs itself.</summary>
    [QemuFact]
    public async Task Microvm_pcie_guest_assigns_bars_itself_and_drives_both_devices()
    {
        using var disk = TestDisk.Create();
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
            {
                MachineProperties = "pcie=on",
                CommandLine = "rng=300 blk-write=5",
                ExtraArguments = ["-device", "virtio-rng-pci,disable-legacy=on", .. disk.QemuArguments],
            },
            Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        GuestAssert.HasLine(result, "virtio: devices=rng,blk");
        GuestAssert.HasLine(result, "virtio: config=ecam");
        var devices = result.LinesStartingWith("virtio: 00:");
        Assert.Equal(2, devices.Count);
        Assert.All(devices, line => Assert.EndsWith(" bars=assigned", line, StringComparison.Ordinal));
        AssertRandomBytesArrived(result, 300);
        GuestAssert.HasLine(result, $"virtio: blk capacity={ImageSectors} sector0-crc={Hex(Crc32.Of(disk.Original.AsSpan(0, SectorBytes)))}");
        GuestAssert.HasLine(result, "virtio: blk write sector=5 ok");
        GuestAssert.EndsWithDone(result, "virtio");
    }

    /// <summary>QEMU's virtio-serial with max_ports=1 offers no MULTIPORT: port 0 is the plain receiveq/transmitq
    /// console Cloud Hypervisor builds. The guest's line reaches the socket client and the client's line comes back.</summary>
    [QemuFact]
    public async Task Q35_console_transmits_a_line_and_receives_one_back()
    {
        var directory = Directory.CreateTempSubdirectory("ch-vcon-");
        try
        {
            var socketPath = Path.Combine(directory.FullName, "console.sock");
            var client = ConsoleClient.EchoOneLineAsync(socketPath, "pong from host\n", Timeout);
            var result = await QemuRunner.RunAsync(
                new QemuOptions(GuestImages.PathOf(GuestImages.Virtio))
                {
                    Machine = QemuMachine.Q35,
                    CommandLine = "console",
                    ExtraArguments =
                    [
                        "-device", "virtio-serial-pci,disable-legacy=on,max_ports=1",
                        "-chardev", $"socket,id=c0,path={socketPath},server=on,wait=off",
                        "-device", "virtconsole,chardev=c0",
                    ],
                },
                Timeout);

            GuestAssert.ShutDownCleanly(result);
            GuestAssert.NoException(result);
            GuestAssert.HasLine(result, "virtio: devices=console");
            GuestAssert.HasLine(result, "virtio: console sent ok");
            Assert.Equal("virtio-console: hello from hvc0", await client);
            GuestAssert.HasLine(result, "virtio: console got pong from host");
            GuestAssert.EndsWithDone(result, "virtio");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>"virtio: rng bytes=N nonzero=M": all N bytes came, and (the buffer starts zeroed) they are random.</summary>
    internal static void AssertRandomBytesArrived(QemuResult result, int bytes)
    {
        var line = result.ValueAfter("virtio: rng bytes=");
        Assert.True(line is not null, $"No \"virtio: rng bytes=\" line\n{result}");
        var fields = GuestAssert.Fields("bytes=" + line);
        Assert.Equal(bytes.ToString(CultureInfo.InvariantCulture), fields["bytes"]);
        var nonzero = int.Parse(fields["nonzero"], CultureInfo.InvariantCulture);
        Assert.True(nonzero >= bytes * 7 / 8, $"Only {nonzero} of {bytes} bytes are nonzero\n{result}");
    }

    private static string Hex(uint crc) => "0x" + crc.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>A 1 MiB raw image of fixed pseudo-random content in a temporary directory.</summary>
    private sealed class TestDisk : IDisposable
    {
        private readonly DirectoryInfo _directory;

        private TestDisk(DirectoryInfo directory, string path, byte[] original)
        {
            _directory = directory;
            Path = path;
            Original = original;
        }

        public string Path { get; }

        public byte[] Original { get; }

        public IReadOnlyList<string> QemuArguments =>
            ["-drive", $"if=none,id=d0,file={Path},format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"];

        public static TestDisk Create()
        {
            var directory = Directory.CreateTempSubdirectory("ch-virtio-");
            var content = new byte[ImageSectors * SectorBytes];
            new Random(20240611).NextBytes(content);
            var path = System.IO.Path.Combine(directory.FullName, "disk.raw");
            File.WriteAllBytes(path, content);
            return new TestDisk(directory, path, content);
        }

        public byte[] ReadHostFile() => File.ReadAllBytes(Path);

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
