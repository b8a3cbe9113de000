using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Tests.Devices.RateLimiting;
using static CloudHypervisor.Tests.Devices.Virtio.Net.NetTestRig;

namespace CloudHypervisor.Tests.Devices.Virtio.Net;

/// <summary>
/// virtio-net with `ops_*` limits on a fake clock: as upstream, a frame is charged after it moved and the next
/// one waits while the limiter is blocked; the pair's wake timer brings it back.
/// </summary>
public sealed class RateLimitedNetTests
{
    private const int HeaderSize = CloudHypervisor.Devices.Virtio.Net.Tap.VnetHeaderSize;
    private static readonly RateLimiterSettings OneFramePerSecond = new(null, new TokenBucketSettings(1, 0, 1000));

    [Fact]
    public void TransmitWaitsForTheLimiterThenSendsTheNextFrame()
    {
        var clock = new FakeClock();
        var timer = new ManualWakeTimer();
        using var rig = new NetTestRig(limits: OneFramePerSecond, clock: clock, wakeTimers: () => timer);
        rig.Start();
        var driver = rig.Driver;
        var table = VirtioGuestDriver.DescTable(Tx);
        for (var i = 0; i < 3; i++)
        {
            var frame = VirtioNetMultiQueueTests.Frame(0x88b5, [(byte)('a' + i)]);
            var address = 0x4_0000 + ((ulong)i * 0x1000);
            driver.Memory.GetSpan(address, HeaderSize).Clear();
            driver.Memory.Write(address + HeaderSize, frame);
            driver.WriteDescriptor(table, i, address, (uint)(HeaderSize + frame.Length), 0, 0);
            driver.Publish(Tx, (ushort)i);
        }

        driver.Kick(Tx);

        // The first frame empties the ops bucket; the second is charged against nothing and blocks the limiter.
        Assert.NotNull(rig.ReceiveOnHost());
        Assert.NotNull(rig.ReceiveOnHost());
        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));
        Assert.Null(rig.ReceiveOnHost(timeoutMs: 150));
        Assert.Equal(2, driver.UsedIdx(Tx));

        clock.AdvanceMs(1000);
        timer.Fire();

        var third = rig.ReceiveOnHost();
        Assert.NotNull(third);
        Assert.Equal((byte)'c', third[HeaderSize + 14]);
        Assert.True(driver.WaitUsed(Tx, 3));
    }

    [Fact]
    public void ReceiveLeavesFramesInTheTapWhileBlockedAndDeliversThemOnWake()
    {
        var clock = new FakeClock();
        var timer = new ManualWakeTimer();
        using var rig = new NetTestRig(limits: OneFramePerSecond, clock: clock, wakeTimers: () => timer);
        rig.Start();
        var driver = rig.Driver;
        for (var i = 0; i < 3; i++)
        {
            driver.OfferWritable(Rx, (0x6_0000 + ((ulong)i * 0x1000), 2048));
        }

        driver.Kick(Rx);
        for (var i = 0; i < 3; i++)
        {
            rig.SendFromHost([.. new byte[HeaderSize], .. VirtioNetMultiQueueTests.Frame(0x88b5, [(byte)('x' + i)])]);
        }

        Assert.True(driver.WaitUsed(Rx, 2));
        Assert.True(SpinWait.SpinUntil(() => timer.ArmedNanoseconds is not null, 5000));
        Thread.Sleep(150);
        Assert.Equal(2, driver.UsedIdx(Rx));

        clock.AdvanceMs(1000);
        timer.Fire();

        Assert.True(driver.WaitUsed(Rx, 3));
        Assert.Equal((byte)'z', driver.Memory.GetSpan(0x6_2000 + HeaderSize + 14, 1)[0]);
        Assert.Equal(3UL, rig.Counter("rx_frames"));
    }
}
