using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Tests.Devices.RateLimiting;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>
/// virtio-blk with a limiter on a fake clock: a request goes ahead only when both buckets admit it, otherwise
/// the queue parks (nothing used, the wake timer armed for the limiter's deadline) until the timer fires.
/// </summary>
public sealed class RateLimitedBlockTests
{
    private const uint Chunk = 4096;
    private const ulong Ms = 1_000_000;

    [Fact]
    public void AReadBeyondTheBandwidthParksTheQueueUntilTheWakeTimerFires()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(Chunk, 0, 1000), null), clock);
        var timer = new ManualWakeTimer();
        using var rig = new BlockTestRig(Pattern(64 * 1024), limiter: limiter, wakeTimer: timer);

        rig.PostRead(0, 0x5_0000, Chunk, 0x4_0000, 0x4_F000);
        Assert.True(rig.Driver.WaitUsed(0, 1));
        rig.PostRead(8, 0x6_0000, Chunk, 0x4_1000, 0x4_F001);

        // Parked: the request stays in the ring and the wake timer is armed for the 100 ms block.
        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));
        Assert.Equal((long)(RateLimiter.RefillTimerIntervalMs * (long)Ms), timer.ArmedNanoseconds);
        Thread.Sleep(100);
        Assert.Equal(1, rig.Driver.UsedIdx(0));

        // 100 ms later the block is over but only a tenth of the bucket came back: parked again.
        clock.AdvanceMs(100);
        timer.Fire();
        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));
        Assert.Equal(1, rig.Driver.UsedIdx(0));

        // A full refill time later the read goes through with the right data.
        clock.AdvanceMs(1000);
        timer.Fire();
        Assert.True(rig.Driver.WaitUsed(0, 2));
        Assert.Equal(0, rig.Driver.Memory.GetSpan(0x4_F001, 1)[0]);
        Assert.Equal(Pattern(64 * 1024).AsSpan(8 * 512, (int)Chunk).ToArray(), rig.Driver.Memory.GetSpan(0x6_0000, (int)Chunk).ToArray());
        Assert.Equal(Chunk * 2, rig.Device.Counters.Snapshot().First(c => c.Key == "read_bytes").Value);
    }

    [Fact]
    public void TheOpsBucketCountsRequestsOfEveryType()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(null, new TokenBucketSettings(2, 0, 1000)), clock);
        var timer = new ManualWakeTimer();
        using var rig = new BlockTestRig(Pattern(64 * 1024), limiter: limiter, wakeTimer: timer);

        Assert.Equal(0, rig.Submit(4, 0).Status); // FLUSH
        rig.PostRead(0, 0x5_0000, 512, 0x4_0000, 0x4_F000);
        Assert.True(rig.Driver.WaitUsed(0, 2));
        rig.PostRead(1, 0x5_1000, 512, 0x4_1000, 0x4_F001);

        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));
        Assert.Equal(2, rig.Driver.UsedIdx(0));
        clock.AdvanceMs(500); // one op back
        timer.Fire();
        Assert.True(rig.Driver.WaitUsed(0, 3));
    }

    [Fact]
    public void ABandwidthRefusalGivesTheOpBack()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(Chunk, 0, 1000), new TokenBucketSettings(10, 0, 1000)), clock);
        var timer = new ManualWakeTimer();
        using var rig = new BlockTestRig(Pattern(64 * 1024), limiter: limiter, wakeTimer: timer);

        rig.PostRead(0, 0x5_0000, Chunk, 0x4_0000, 0x4_F000);
        Assert.True(rig.Driver.WaitUsed(0, 1));
        rig.PostRead(8, 0x6_0000, Chunk, 0x4_1000, 0x4_F001);
        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));

        Assert.Equal(9UL, limiter.Ops!.Budget);
    }

    [Fact]
    public void DisksOfOneGroupShareItsBudget()
    {
        var clock = new FakeClock();
        var group = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(Chunk, 0, 1000), null), clock);
        var timerA = new ManualWakeTimer();
        var timerB = new ManualWakeTimer();
        using var diskA = new BlockTestRig(Pattern(64 * 1024), id: "_disk0", limiter: group, wakeTimer: timerA);
        using var diskB = new BlockTestRig(Pattern(64 * 1024), id: "_disk1", limiter: group, wakeTimer: timerB);

        diskA.PostRead(0, 0x5_0000, Chunk, 0x4_0000, 0x4_F000);
        Assert.True(diskA.Driver.WaitUsed(0, 1));
        diskB.PostRead(0, 0x5_0000, Chunk, 0x4_0000, 0x4_F000);

        // Disk B finds the group's budget spent by disk A and parks on its own timer.
        Assert.True(SpinWait.SpinUntil(() => timerB.ArmedNanoseconds is not null, 5000));
        Assert.Equal(0, diskB.Driver.UsedIdx(0));
        Assert.Null(timerA.ArmedNanoseconds);

        clock.AdvanceMs(1000);
        timerB.Fire();
        Assert.True(diskB.Driver.WaitUsed(0, 1));
    }

    [Fact]
    public void WithoutALimiterNothingIsEverParked()
    {
        using var rig = new BlockTestRig(Pattern(64 * 1024));

        for (var i = 0; i < 8; i++)
        {
            rig.PostRead((ulong)i * 8, 0x5_0000, Chunk, 0x4_0000, 0x4_F000);
            Assert.True(rig.Driver.WaitUsed(0, (ushort)(i + 1)));
        }
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + (i >> 9));
        }

        return bytes;
    }
}
