using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config;

namespace CloudHypervisor.Tests.Cli;

/// <summary>Automatic device ids as upstream's device manager assigns them at VM boot.</summary>
public sealed class DeviceIdAllocatorTests
{
    private static VmConfig Parse(VmParams parameters) => VmConfigBuilder.Parse(parameters);

    [Fact]
    public void OneCounterIsSharedByEveryPrefix()
    {
        var config = Parse(new VmParams { Kernel = "k", Disks = ["path=a", "path=b"], Net = ["tap=t0"] });

        DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal(["_disk0", "_disk1"], config.Disks!.Select(d => d.Id));
        Assert.Equal("_net2", config.Net![0].Id);
    }

    [Fact]
    public void DevicesAreNamedInUpstreamCreationOrderWhateverTheCommandLineOrder()
    {
        var config = Parse(new VmParams
        {
            Kernel = "k",
            UserDevices = ["socket=/u"],
            Devices = ["path=/sys/bus/pci/devices/0000:00:01.0"],
            Vdpa = ["path=/dev/vhost-vdpa-0"],
            Vsock = "cid=3,socket=/v",
            Pmem = ["file=/p"],
            Fs = ["tag=t,socket=/f"],
            GenericVhostUser = ["device_type=sound,socket=/g,queue_sizes=[64]"],
            Net = ["tap=t0"],
            Disks = ["path=a"],
        });

        DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal("_disk0", config.Disks![0].Id);
        Assert.Equal("_net1", config.Net![0].Id);
        Assert.Equal("_generic_vhost_user2", config.GenericVhostUser![0].Id);
        Assert.Equal("_fs3", config.Fs![0].Id);
        Assert.Equal("_pmem4", config.Pmem![0].Id);
        Assert.Equal("_vsock5", config.Vsock!.Id);
        Assert.Equal("_vdpa6", config.Vdpa![0].Id);
        Assert.Equal("_vfio7", config.Devices![0].Id);
        Assert.Equal("_vfio_user8", config.UserDevices![0].Id);
    }

    [Fact]
    public void ExplicitIdsKeepTheirNameAndDoNotAdvanceTheCounter()
    {
        var config = Parse(new VmParams { Kernel = "k", Disks = ["path=a,id=root", "path=b"], Pmem = ["file=/p"] });

        DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal(["root", "_disk0"], config.Disks!.Select(d => d.Id));
        Assert.Equal("_pmem1", config.Pmem![0].Id);
    }

    [Fact]
    public void AGeneratedNameSkipsIdsTheConfigurationGivesAnywhereButTheCounterStillAdvances()
    {
        // "_disk0" names a net device that is created after the disks, and "_disk2" a memory zone:
        // upstream checks the whole list of configured ids, not only devices created so far.
        var config = Parse(new VmParams
        {
            Kernel = "k",
            Memory = "size=0",
            MemoryZones = ["id=_disk2,size=1G"],
            Disks = ["path=a", "path=b", "path=c"],
            Net = ["tap=t0,id=_disk0"],
        });

        DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal(["_disk1", "_disk3", "_disk4"], config.Disks!.Select(d => d.Id));
    }

    [Fact]
    public void RateLimitGroupIdsAreReservedToo()
    {
        var config = Parse(new VmParams
        {
            Kernel = "k",
            RateLimitGroups = ["id=_disk0,bw_size=1,bw_refill_time=1"],
            Disks = ["path=a"],
        });

        DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal("_disk1", config.Disks![0].Id);
    }

    [Fact]
    public void AssigningAgainChangesNothingAsARebootFromTheWrittenBackConfigDoes()
    {
        var config = Parse(new VmParams { Kernel = "k", Disks = ["path=a"], Net = ["tap=t0"] });
        DeviceIdAllocator.AssignMissingIds(config);

        var second = DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal("_disk0", config.Disks![0].Id);
        Assert.Equal("_net1", config.Net![0].Id);
        Assert.Equal(0UL, second.Counter);
    }

    [Fact]
    public void HotPluggedDevicesContinueTheBootSequence()
    {
        var config = Parse(new VmParams { Kernel = "k", Disks = ["path=a"], Net = ["tap=t0"] });
        var allocator = DeviceIdAllocator.AssignMissingIds(config);

        Assert.Equal("_disk2", allocator.Create(null, DeviceIdAllocator.DiskPrefix));

        Assert.Equal("_pmem3", allocator.Create(null, DeviceIdAllocator.PmemPrefix));
        Assert.Equal(4UL, allocator.Counter);
    }

    [Fact]
    public void AConfigWithoutDevicesIsLeftAlone()
    {
        var config = Parse(new VmParams { Kernel = "k" });

        var allocator = DeviceIdAllocator.AssignMissingIds(config);

        Assert.Null(config.Disks);
        Assert.Equal(0UL, allocator.Counter);
    }
}
