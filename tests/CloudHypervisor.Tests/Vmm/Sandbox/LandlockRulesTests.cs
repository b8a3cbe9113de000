using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Vmm.Sandbox;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>Which paths each part of a VM configuration contributes to the sandbox, and with which access.</summary>
public sealed class LandlockRulesTests : IDisposable
{
    private const LandlockAccessFs R = LandlockAccess.Read;
    private const LandlockAccessFs W = LandlockAccess.Write;
    private const LandlockAccessFs RW = LandlockAccess.Read | LandlockAccess.Write;

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-landlock-rules-");

    public void Dispose() => directory.Delete(recursive: true);

    [Fact]
    public void AMinimalConfigAllowsTheKernelAndTheRngSource()
    {
        var rules = LandlockRules.FromConfig(Minimal());

        Assert.Equal([new("/dev/urandom", R), new("/k/vmlinux", R)], rules);
    }

    [Fact]
    public void ThePayloadIsReadOnly()
    {
        var config = Minimal();
        config.Payload = new PayloadConfig { Firmware = "/f/fw", Initramfs = "/f/initrd", Igvm = "/f/igvm" };

        Assert.Equal([new("/f/fw", R), new("/f/initrd", R), new("/f/igvm", R)], Without(config, "/dev/urandom"));
    }

    [Fact]
    public void DisksAndMemoryZoneFilesAreReadWriteEvenWhenReadonly()
    {
        var config = Minimal();
        config.Disks = [new DiskConfig { Path = "/d/a.img" }, new DiskConfig { Path = "/d/b.img", Readonly = true }, new DiskConfig { VhostUser = true }];
        config.Memory.Zones = [new MemoryZoneConfig { Id = "z0", Size = 1 << 20, File = "/m/zone" }, new MemoryZoneConfig { Id = "z1", Size = 1 << 20 }];

        Assert.Equal([new("/m/zone", RW), new("/d/a.img", RW), new("/d/b.img", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void TheRngSourceIsReadOnly()
    {
        var config = Minimal();
        config.Rng = new RngConfig { Src = "/dev/hwrng" };

        Assert.Contains(new LandlockRule("/dev/hwrng", R), LandlockRules.FromConfig(config));
        Assert.DoesNotContain(LandlockRules.FromConfig(config), r => r.Path == "/dev/urandom");
    }

    [Fact]
    public void PmemIsReadOnlyOnlyWhenItsWritesAreDiscarded()
    {
        var config = Minimal();
        config.Pmem = [new PmemConfig { File = "/p/a" }, new PmemConfig { File = "/p/b", DiscardWrites = true }];

        Assert.Equal([new("/p/a", RW), new("/p/b", R)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void VhostUserFsVfioUserTpmAndVdpaEndpointsAreReadWrite()
    {
        var config = Minimal();
        config.Fs = [new FsConfig { Tag = "t", Socket = "/s/fs.sock" }];
        config.GenericVhostUser = [new GenericVhostUserConfig { Socket = "/s/vu.sock", QueueSizes = [64], DeviceType = 1 }];
        config.UserDevices = [new UserDeviceConfig { Socket = "/s/user.sock" }];
        config.Vdpa = [new VdpaConfig { Path = "/dev/vhost-vdpa-0" }];
        config.Tpm = new TpmConfig { Socket = "/s/tpm.sock" };

        Assert.Equal(
            [new("/s/fs.sock", RW), new("/s/vu.sock", RW), new("/s/user.sock", RW), new("/dev/vhost-vdpa-0", RW), new("/s/tpm.sock", RW)],
            Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void VsockGetsWriteOnItsDirectoryAndReadWriteOnItsSocket()
    {
        var config = Minimal();
        config.Vsock = new VsockConfig { Cid = 3, Socket = "/v/vsock.sock" };

        Assert.Equal([new("/v", W), new("/v/vsock.sock", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void NetworkDevicesNeedTheTunDevice()
    {
        var config = Minimal();
        config.Net = [new NetConfig { Tap = "tap0" }];

        Assert.Equal([new("/dev/net/tun", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Theory]
    [InlineData(ConsoleMode.Off)]
    [InlineData(ConsoleMode.Null)]
    [InlineData(ConsoleMode.Tty)]
    public void ConsolesWithoutFilesNeedNothing(ConsoleMode mode)
    {
        var config = Minimal();
        config.Serial = new SerialConfig { Mode = mode };
        config.Console = new ConsoleConfig { Mode = mode };

        Assert.Empty(Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void APtyConsoleNeedsThePtyMultiplexerAndDirectory()
    {
        var config = Minimal();
        config.Serial = new SerialConfig { Mode = ConsoleMode.Pty };

        Assert.Equal([new("/dev/pts", RW), new("/dev/ptmx", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void FileConsolesAreReadWriteInConsoleSerialDebugConsoleOrder()
    {
        var config = Minimal();
        config.Serial = new SerialConfig { Mode = ConsoleMode.File, File = "/o/serial" };
        config.Console = new ConsoleConfig { Mode = ConsoleMode.File, File = "/o/console" };
        config.DebugConsole = new DebugConsoleConfig { Mode = ConsoleMode.File, File = "/o/debug" };

        Assert.Equal([new("/o/console", RW), new("/o/serial", RW), new("/o/debug", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void ASocketSerialMayBeBoundAndRemovedInItsDirectory()
    {
        var config = Minimal();
        config.Serial = new SerialConfig { Mode = ConsoleMode.Socket, Socket = "/run/ch/serial.sock" };

        Assert.Equal(
            [new("/run/ch/serial.sock", RW), new("/run/ch", LandlockAccessFs.MakeSock | LandlockAccessFs.RemoveFile)],
            Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void VfioDevicesNeedTheContainerAndTheGroupTheirPathLinksTo()
    {
        var link = Path.Combine(directory.FullName, "device");
        File.CreateSymbolicLink(link, "../../../kernel/iommu_groups/42");
        var config = Minimal();
        config.Devices = [new DeviceConfig { Path = link }, new DeviceConfig { Fd = 7 }];

        Assert.Equal([new("/dev/vfio/vfio", RW), new("/dev/vfio/42", RW)], Without(config, "/dev/urandom", "/k/vmlinux"));
    }

    [Fact]
    public void AVfioDevicePathThatIsNotALinkIsAnInvalidPath()
    {
        var config = Minimal();
        config.Devices = [new DeviceConfig { Path = directory.FullName }];

        Assert.Equal("Invalid path", Assert.Throws<LandlockException>(() => LandlockRules.FromConfig(config)).Message);
    }

    [Fact]
    public void UserRulesComeLastWithTheirAccess()
    {
        var config = Minimal();
        config.LandlockRules = [new LandlockConfig { Path = "/extra/ro", Access = "r" }, new LandlockConfig { Path = "/extra/rw", Access = "rw" },
            new LandlockConfig { Path = "/extra/wo", Access = "w" }];

        var rules = LandlockRules.FromConfig(config);

        Assert.Equal([new("/extra/ro", R), new("/extra/rw", RW), new("/extra/wo", W)], rules[^3..]);
    }

    [Fact]
    public void AnInvalidUserAccessIsUpstreamsError()
    {
        var config = Minimal();
        config.LandlockRules = [new LandlockConfig { Path = "/extra", Access = "x" }];

        Assert.Equal("Invalid Landlock access: Invalid access: x", Assert.Throws<LandlockException>(() => LandlockRules.FromConfig(config)).Message);
    }

    private static VmConfig Minimal() => new()
    {
        Payload = new PayloadConfig { Kernel = "/k/vmlinux" },
        Serial = new SerialConfig { Mode = ConsoleMode.Null },
        Console = new ConsoleConfig { Mode = ConsoleMode.Off },
    };

    private static List<LandlockRule> Without(VmConfig config, params string[] paths) =>
        LandlockRules.FromConfig(config).Where(r => !paths.Contains(r.Path)).ToList();
}
