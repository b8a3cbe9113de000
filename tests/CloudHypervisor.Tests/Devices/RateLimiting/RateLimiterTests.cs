using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Tests.Devices.RateLimiting;

/// <summary>The limiter over its two buckets on a fake clock: blocking for the refill interval, over-consumption, replenish, sharing.</summary>
public sealed class RateLimiterTests
{
    private static readonly TokenBucketSettings ThousandPerSecond = new(1000, 0, 1000);

    [Fact]
    public void ATypeWithoutABucketIsNeverLimited()
    {
        var limiter = new RateLimiter(new RateLimiterSettings(ThousandPerSecond, null), new FakeClock());

        Assert.True(limiter.Consume(ulong.MaxValue, TokenType.Ops));
        Assert.False(limiter.IsBlocked);
        Assert.Null(limiter.Ops);
    }

    [Fact]
    public void AShortBucketBlocksEveryTypeForTheRefillIntervalThenAllowsAgain()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(ThousandPerSecond, ThousandPerSecond), clock);

        Assert.True(limiter.Consume(1000, TokenType.Bytes));
        Assert.False(limiter.Consume(100, TokenType.Bytes));
        Assert.True(limiter.IsBlocked);
        Assert.Equal(clock.NowNanoseconds + (RateLimiter.RefillTimerIntervalMs * 1_000_000), limiter.BlockedUntil);

        // While blocked even the ops bucket, which has tokens, refuses.
        Assert.False(limiter.Consume(1, TokenType.Ops));
        clock.AdvanceMs(50);
        Assert.True(limiter.IsBlocked);
        clock.AdvanceMs(50);
        Assert.False(limiter.IsBlocked);

        // 100 ms refilled 100 bytes.
        Assert.True(limiter.Consume(100, TokenType.Bytes));
        Assert.False(limiter.Consume(1, TokenType.Bytes));
    }

    [Fact]
    public void AFailureWhileBlockedDoesNotExtendTheBlock()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(null, new TokenBucketSettings(1, 0, 1000)), clock);
        limiter.Consume(1, TokenType.Ops);
        Assert.False(limiter.Consume(1, TokenType.Ops));
        var until = limiter.BlockedUntil;

        clock.AdvanceMs(60);
        Assert.False(limiter.Consume(1, TokenType.Ops));

        Assert.Equal(until, limiter.BlockedUntil);
    }

    [Fact]
    public void AnOverConsumptionIsAllowedAndBlocksForTheRefillTimesItBorrowed()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(ThousandPerSecond, null), clock);

        Assert.True(limiter.Consume(2500, TokenType.Bytes));

        Assert.True(limiter.IsBlocked);
        Assert.Equal(clock.NowNanoseconds + (1500L * 1_000_000), limiter.BlockedUntil);
        clock.AdvanceMs(1499);
        Assert.False(limiter.Consume(1, TokenType.Bytes));
        clock.AdvanceMs(1);
        Assert.True(limiter.Consume(1, TokenType.Bytes));
    }

    [Fact]
    public void ManualReplenishGivesTokensBack()
    {
        var limiter = new RateLimiter(new RateLimiterSettings(ThousandPerSecond, ThousandPerSecond), new FakeClock());

        Assert.True(limiter.Consume(123, TokenType.Bytes));
        limiter.ManualReplenish(23, TokenType.Bytes);
        Assert.True(limiter.Consume(123, TokenType.Ops));
        limiter.ManualReplenish(23, TokenType.Ops);

        Assert.Equal(900UL, limiter.Bandwidth!.Budget);
        Assert.Equal(900UL, limiter.Ops!.Budget);
    }

    [Fact]
    public void TheOneTimeBurstLetsAnInitialSpikeThrough()
    {
        var clock = new FakeClock();
        var limiter = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(1000, 4000, 1000), null), clock);

        Assert.True(limiter.Consume(4000, TokenType.Bytes));
        Assert.True(limiter.Consume(1000, TokenType.Bytes));
        Assert.False(limiter.Consume(1, TokenType.Bytes));
    }

    [Fact]
    public void ConsumersSharingOneLimiterShareItsBudgetAndItsBlock()
    {
        // A rate-limit group: two disks, one limiter.
        var clock = new FakeClock();
        var group = new RateLimiter(new RateLimiterSettings(new TokenBucketSettings(4096, 0, 1000), null), clock);
        var diskA = group;
        var diskB = group;

        Assert.True(diskA.Consume(3072, TokenType.Bytes));
        Assert.False(diskB.Consume(2048, TokenType.Bytes));
        Assert.True(diskA.IsBlocked);
        clock.AdvanceMs(250);
        Assert.True(diskB.Consume(2048, TokenType.Bytes));
    }

    [Fact]
    public void ConcurrentConsumersNeverTakeMoreThanTheBucketHeld()
    {
        var limiter = new RateLimiter(new RateLimiterSettings(null, new TokenBucketSettings(10_000, 0, 1_000_000_000)), new FakeClock());
        var granted = 0;

        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 5000; i++)
            {
                if (limiter.Consume(1, TokenType.Ops))
                {
                    Interlocked.Increment(ref granted);
                }
            }
        });

        Assert.Equal(10_000, granted);
    }
}
