namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>What taking tokens from a <see cref="TokenBucket"/> did.</summary>
public enum BucketReductionKind
{
    /// <summary>The tokens were taken.</summary>
    Success,

    /// <summary>Not enough tokens: nothing was taken.</summary>
    Failure,

    /// <summary>More tokens than the bucket holds were asked for: the bucket was emptied and the request allowed.</summary>
    OverConsumption,
}

/// <summary>
/// The outcome of <see cref="TokenBucket.Reduce"/>; for an over-consumption, <paramref name="Ratio"/> is how many
/// bucket sizes were borrowed beyond what the bucket held, so the caller can hold off for that many refill times.
/// </summary>
public readonly record struct BucketReduction(BucketReductionKind Kind, double Ratio = 0)
{
    public static BucketReduction Success => new(BucketReductionKind.Success);

    public static BucketReduction Failure => new(BucketReductionKind.Failure);
}
