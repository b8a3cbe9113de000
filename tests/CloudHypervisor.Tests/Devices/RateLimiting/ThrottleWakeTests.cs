using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.RateLimiting;

/// <summary>One wake timer for several limiters: armed for the earliest deadline, re-armed after it fired.</summary>
public sealed class ThrottleWakeTests
{
    [Fact]
    public void TheTimerIsArmedForTheEarliestDeadlineOnly()
    {
        var clock = new FakeClock();
        var timer = new ManualWakeTimer();
        using var wake = new ThrottleWake(timer);
        var rx = new RateLimiter(new RateLimiterSettings(null, new TokenBucketSettings(1, 0, 1000)), clock);
        var tx = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(1000, 0, 1000), null), clock);
        rx.Consume(1, TokenType.Ops);
        rx.Consume(1, TokenType.Ops); // blocked 100 ms
        clock.AdvanceMs(10);
        tx.Consume(1500, TokenType.Bytes); // blocked 500 ms

        wake.ParkUntilUnblocked(rx);
        wake.ParkUntilUnblocked(tx);

        Assert.Equal(1, timer.Armings);
        Assert.Equal(90_000_000L, timer.ArmedNanoseconds);

        timer.Fire();
        wake.Fired();
        clock.AdvanceMs(90);
        wake.ParkUntilUnblocked(tx);

        Assert.Equal(2, timer.Armings);
        Assert.Equal(410_000_000L, timer.ArmedNanoseconds);
    }

    [Fact]
    public void TheTimerfdBecomesReadableWhenTheDelayHasPassedAndStopsBeingSoOnceAcknowledged()
    {
        using var timer = new TimerFdWakeTimer();
        var started = System.Diagnostics.Stopwatch.StartNew();

        timer.ArmAfter(30_000_000);

        Assert.True(WaitReadable(timer.Fd, 2000));
        Assert.True(started.ElapsedMilliseconds >= 29, $"fired after {started.ElapsedMilliseconds} ms");
        timer.Acknowledge();
        Assert.False(WaitReadable(timer.Fd, 50));
    }

    private static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        using var epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        var watched = new Libc.EpollEvent { Events = Libc.EpollIn, Data = 1 };
        Assert.Equal(0, Libc.EpollCtl(epoll.Fd, Libc.EpollCtlAdd, fd, &watched));
        var ready = default(Libc.EpollEvent);
        return Libc.EpollWait(epoll.Fd, &ready, 1, timeoutMs) == 1;
    }
}
