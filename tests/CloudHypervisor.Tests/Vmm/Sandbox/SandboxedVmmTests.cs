using CloudHypervisor.Contracts;
using CloudHypervisor.Tests.Api.Routing;
using CloudHypervisor.Vmm.Control;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>vm.create with landlock_enable confines the VMM thread; later additions must fit the rules.</summary>
public sealed class SandboxedVmmTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-landlock-vmm-");
    private readonly VmmController vmm = new(new NoHypervisor(), noShutdown: false);

    public void Dispose()
    {
        vmm.Dispose();
        directory.Delete(recursive: true);
    }

    [LandlockFact]
    public void AfterASandboxedCreateOnlyListedDisksCanBeAdded()
    {
        var listed = CreateFile("listed.img");
        var unlisted = CreateFile("unlisted.img");
        vmm.CreateVm(Config(rules: [new LandlockConfig { Path = listed, Access = "rw" }]));

        var refused = Assert.Throws<VmError>(() => vmm.AddDevice(DeviceAddition.Disk(new DiskConfig { Path = unlisted })));
        vmm.AddDevice(DeviceAddition.Disk(new DiskConfig { Path = listed }));

        Assert.Equal(VmErrorKind.Failed, refused.Kind);
        Assert.Equal(
            ["The device is outside the Landlock sandbox",
             $"Access to {unlisted} is denied by the Landlock sandbox; allow it with --landlock-rules path={unlisted},access=rw (landlock_rules in vm.create)",
             "Permission denied (os error 13)"],
            refused.Chain());
        Assert.Equal([listed], vmm.Info().Config.Disks!.Select(d => d.Path));
    }

    [Fact]
    public void WithoutLandlockAnyDiskCanBeAdded()
    {
        var disk = CreateFile("any.img");
        vmm.CreateVm(Config(rules: null, enable: false));

        vmm.AddDevice(DeviceAddition.Disk(new DiskConfig { Path = disk }));

        Assert.Single(vmm.Info().Config.Disks!);
    }

    [LandlockFact]
    public void AFileConsoleIsCreatedAtCreateSoItsRuleHasAFileToName()
    {
        var serial = Path.Combine(directory.FullName, "serial.log");
        var config = Config(rules: null);
        config.Serial = new SerialConfig { Mode = ConsoleMode.File, File = serial };

        vmm.CreateVm(config);

        Assert.True(File.Exists(serial));
    }

    [Fact]
    public void ARulesetThatCannotBeBuiltFailsTheCreateAndLeavesNoConfigToBootUnconfined()
    {
        var error = Assert.Throws<VmError>(() => vmm.CreateVm(Config(rules: [new LandlockConfig { Path = directory.FullName, Access = "x" }])));

        Assert.Equal(["Failed to apply landlock config during vm_create", "Invalid Landlock access: Invalid access: x"], error.Chain());
        Assert.Equal(VmErrorKind.NotCreated, Assert.Throws<VmError>(() => vmm.Info()).Kind);
    }

    private VmConfig Config(List<LandlockConfig>? rules, bool enable = true) => new()
    {
        Payload = new PayloadConfig { Kernel = CreateFile("kernel") },
        Serial = new SerialConfig { Mode = ConsoleMode.Null },
        Console = new ConsoleConfig { Mode = ConsoleMode.Off },
        LandlockEnable = enable,
        LandlockRules = rules,
    };

    private string CreateFile(string name)
    {
        var path = Path.Combine(directory.FullName, name);
        if (!File.Exists(path))
            File.WriteAllBytes(path, new byte[4096]);
        return path;
    }
}
