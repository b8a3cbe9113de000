using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm;
using CloudHypervisor.Vmm.Sandbox;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>Devices added to a sandboxed VMM are checked on the confined thread before they are accepted.</summary>
public sealed class LandlockAdmissionTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-landlock-admission-");

    public void Dispose() => directory.Delete(recursive: true);

    [LandlockFact]
    public void ADiskOutsideTheRulesIsRefusedNamingThePathAndTheRuleThatWouldAllowIt()
    {
        var outside = CreateFile("outside.img");

        var error = ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([]);
            return Assert.Throws<VmmException>(() => LandlockAdmission.Check(new DiskConfig { Path = outside }));
        });

        Assert.Equal(
            $"Access to {outside} is denied by the Landlock sandbox; allow it with --landlock-rules path={outside},access=rw (landlock_rules in vm.create)",
            error.Message);
        Assert.Equal("Permission denied (os error 13)", error.InnerException!.Message);
    }

    [LandlockFact]
    public void ListedDevicesAreAdmittedWithTheAccessTheyUse()
    {
        var disk = CreateFile("disk.img");
        var readOnlyDisk = CreateFile("ro.img");
        var pmem = CreateFile("pmem");

        ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([LandlockRule.ReadWrite(disk), LandlockRule.ReadOnly(readOnlyDisk), LandlockRule.ReadOnly(pmem)]);
            LandlockAdmission.Check(new DiskConfig { Path = disk });
            LandlockAdmission.Check(new DiskConfig { Path = readOnlyDisk, Readonly = true });
            LandlockAdmission.Check(new PmemConfig { File = pmem, DiscardWrites = true });
            var writable = Assert.Throws<VmmException>(() => LandlockAdmission.Check(new DiskConfig { Path = readOnlyDisk }));
            Assert.Contains("access=rw", writable.Message);
        });
    }

    [LandlockFact]
    public void MissingFilesAreLeftForTheDeviceToReport()
    {
        var missing = Path.Combine(directory.FullName, "missing.img");

        ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([]);
            LandlockAdmission.Check(new DiskConfig { Path = missing });
        });
    }

    [LandlockFact]
    public void ANetworkDeviceNeedsTheTunDeviceUnlessItBringsItsFds()
    {
        ConfinedThread.Run(() =>
        {
            LandlockSandbox.RestrictCurrentThread([]);
            LandlockAdmission.Check(new NetConfig { Fds = [5] });
            if (File.Exists(LandlockRules.TunDevice))
                Assert.Contains(LandlockRules.TunDevice, Assert.Throws<VmmException>(() => LandlockAdmission.Check(new NetConfig { Tap = "tap0" })).Message);
        });
    }

    private string CreateFile(string name)
    {
        var path = Path.Combine(directory.FullName, name);
        File.WriteAllBytes(path, new byte[4096]);
        return path;
    }
}
