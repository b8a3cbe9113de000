using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Vmm.Config.Options;
using CloudHypervisor.Vmm.Devices;

namespace CloudHypervisor.Tests.Vmm;

/// <summary>From the command line's `bw_*`/`ops_*` and `--rate-limit-group` to the limiters the devices get.</summary>
public sealed class RateLimitersTests
{
    [Fact]
    public void DiskKeysBecomeBucketSettings()
    {
        var disk = DiskOption.Parse("path=/a.img,bw_size=1048576,bw_one_time_burst=4096,bw_refill_time=1000,ops_size=100,ops_refill_time=10");

        var settings = RateLimiters.Settings(disk.RateLimiterConfig!);

        Assert.Equal(new TokenBucketSettings(1048576, 4096, 1000), settings.Bandwidth);
        Assert.Equal(new TokenBucketSettings(100, 0, 10), settings.Ops);
    }

    [Fact]
    public void EachGroupIsOneLimiterByIdWithItsBuckets()
    {
        var config = new VmConfig
        {
            RateLimitGroups =
            [
                PlatformOptions.ParseRateLimitGroup("id=slow,bw_size=1000,bw_refill_time=1000"),
                PlatformOptions.ParseRateLimitGroup("id=ops,ops_size=5,ops_one_time_burst=2,ops_refill_time=100"),
            ],
        };

        var groups = RateLimiters.Groups(config);

        Assert.Equal(["ops", "slow"], groups.Keys.Order());
        Assert.Equal(1000UL, groups["slow"].Bandwidth!.Size);
        Assert.Null(groups["slow"].Ops);
        Assert.Equal(2UL, groups["ops"].Ops!.OneTimeBurst);
        Assert.Null(groups["ops"].Bandwidth);
    }
}
