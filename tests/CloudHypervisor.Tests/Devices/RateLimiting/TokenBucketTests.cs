using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Tests.Devices.RateLimiting;

/// <summary>Upstream's token bucket arithmetic on a fake clock: full start, lazy continuous refill, one-time burst, over-consumption.</summary>
public sealed class TokenBucketTests
{
    private const long Ms = 1_000_000;
    private const long Start = 5_000 * Ms;

    [Theory]
    [InlineData(0UL, 1000UL)]
    [InlineData(1000UL, 0UL)]
    [InlineData(0UL, 0UL)]
    public void AZeroSizeOrRefillTimeMeansNoBucket(ulong size, ulong refillMs)
    {
        Assert.Null(TokenBucket.Create(new TokenBucketSettings(size, 1234, refillMs), Start));
        Assert.Null(TokenBucket.Create(null, Start));
    }

    [Fact]
    public void ABucketStartsFullWithItsBurstOnTop()
    {
        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 1001, 1002), Start)!;

        Assert.Equal(1000UL, bucket.Size);
        Assert.Equal(1000UL, bucket.Budget);
        Assert.Equal(1001UL, bucket.OneTimeBurst);
        Assert.Equal(1002UL, bucket.RefillTimeMs);
    }

    [Fact]
    public void TokensRefillInProportionToElapsedTimeUpToTheSize()
    {
        // 1000 tokens per 1000 ms: one token per millisecond.
        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 0, 1000), Start)!;

        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(123, Start).Kind);
        Assert.Equal(877UL, bucket.Budget);

        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(1, Start + (123 * Ms)).Kind);
        Assert.Equal(999UL, bucket.Budget);

        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(100, Start + (123 * Ms)).Kind);
        Assert.Equal(BucketReductionKind.Failure, bucket.Reduce(1000, Start + (123 * Ms)).Kind);
        Assert.Equal(899UL, bucket.Budget);

        // A long idle time fills the bucket to its size, no further.
        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(0, Start + (10_000 * Ms)).Kind);
        Assert.Equal(1000UL, bucket.Budget);
    }

    [Fact]
    public void AFailedReductionTakesNothingFromTheBudget()
    {
        var bucket = TokenBucket.Create(new TokenBucketSettings(100, 0, 1000), Start)!;
        bucket.Reduce(90, Start);

        Assert.Equal(BucketReductionKind.Failure, bucket.Reduce(20, Start).Kind);
        Assert.Equal(10UL, bucket.Budget);
        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(10, Start).Kind);
    }

    [Fact]
    public void PartialRefillKeepsWholeTokensOfAnOddRate()
    {
        // 3 tokens per 7 ms: after 5 ms, 15/7 = 2 whole tokens.
        var bucket = TokenBucket.Create(new TokenBucketSettings(3, 0, 7), Start)!;
        bucket.Reduce(3, Start);

        bucket.Reduce(0, Start + (5 * Ms));

        Assert.Equal(2UL, bucket.Budget);
    }

    [Fact]
    public void TheOneTimeBurstIsSpentFirstThenTheBudgetAndNeverRefills()
    {
        // Upstream's scenario: size 1000 per 1000 ms with a 1100-token burst.
        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 1100, 1000), Start)!;

        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(1000, Start).Kind);
        Assert.Equal(100UL, bucket.OneTimeBurst);
        Assert.Equal(1000UL, bucket.Budget);
        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(500, Start).Kind);
        Assert.Equal(0UL, bucket.OneTimeBurst);
        Assert.Equal(600UL, bucket.Budget);
        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(500, Start).Kind);
        Assert.Equal(BucketReductionKind.Failure, bucket.Reduce(500, Start).Kind);

        Assert.Equal(BucketReductionKind.Success, bucket.Reduce(500, Start + (500 * Ms)).Kind);
        Assert.Equal(0UL, bucket.OneTimeBurst);
    }

    [Fact]
    public void TheRefillCountsFromTheReductionThatSpentTheLastOfTheBurst()
    {
        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 500, 1000), Start)!;
        bucket.Reduce(1000, Start + (1 * Ms)); // 500 from the burst, 500 from the budget.
        Assert.Equal(500UL, bucket.Budget);

        // Burst gone: 200 ms refill 200 tokens, counted from the last reduction.
        bucket.Reduce(0, Start + (201 * Ms));

        Assert.Equal(700UL, bucket.Budget);
    }

    [Fact]
    public void ARequestLargerThanTheBucketEmptiesItAndReportsHowManySizesItBorrowed()
    {
        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 0, 1000), Start)!;

        var reduction = bucket.Reduce(2500, Start);

        Assert.Equal(BucketReductionKind.OverConsumption, reduction.Kind);
        Assert.Equal(1.5, reduction.Ratio, 6);
        Assert.Equal(0UL, bucket.Budget);
    }

    [Fact]
    public void ReplenishGoesToTheBurstWhileItLastsElseToTheBudgetCappedAtSize()
    {
        var withBurst = TokenBucket.Create(new TokenBucketSettings(1000, 10, 1000), Start)!;
        withBurst.Replenish(5);
        Assert.Equal(15UL, withBurst.OneTimeBurst);

        var bucket = TokenBucket.Create(new TokenBucketSettings(1000, 0, 1000), Start)!;
        bucket.Reduce(123, Start);
        bucket.Replenish(23);
        Assert.Equal(900UL, bucket.Budget);
        bucket.Replenish(5000);
        Assert.Equal(1000UL, bucket.Budget);
    }

    [Fact]
    public void HugeSizesAndIdleTimesDoNotOverflow()
    {
        var bucket = TokenBucket.Create(new TokenBucketSettings(ulong.MaxValue / 2, 0, 1), Start)!;
        bucket.Reduce(ulong.MaxValue / 2, Start);

        bucket.Reduce(0, Start + (3_600_000 * Ms));

        Assert.Equal(ulong.MaxValue / 2, bucket.Budget);
    }
}
