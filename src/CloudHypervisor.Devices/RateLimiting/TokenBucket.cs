namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>
/// Upstream's token bucket: it starts full (<see cref="Size"/> tokens) and refills continuously at
/// Size per <see cref="RefillTimeMs"/>, never above Size; the refill is computed lazily on each
/// reduction from the time since the last one. A one-time burst is spent before the budget and never
/// refills; while it lasts the refill clock is held at the time of the last reduction. Not thread-safe:
/// <see cref="RateLimiter"/> serialises access.
/// </summary>
public sealed class TokenBucket
{
    private const ulong NanosecondsPerMillisecond = 1_000_000;

    // Size / (RefillTimeMs in ns), reduced by their greatest common divisor so the refill product stays small.
    private readonly ulong processedCapacity;
    private readonly ulong processedRefillTime;
    private long lastUpdate;

    private TokenBucket(ulong size, ulong oneTimeBurst, ulong refillTimeMs, long now)
    {
        Size = size;
        OneTimeBurst = oneTimeBurst;
        RefillTimeMs = refillTimeMs;
        Budget = size;
        lastUpdate = now;
        var refillNs = (UInt128)refillTimeMs * NanosecondsPerMillisecond;
        var divisor = Gcd(size, refillNs);
        processedCapacity = (ulong)(size / divisor);
        processedRefillTime = (ulong)(refillNs / divisor);
    }

    public ulong Size { get; }

    /// <summary>What is left of the one-time burst.</summary>
    public ulong OneTimeBurst { get; private set; }

    public ulong RefillTimeMs { get; }

    /// <summary>The tokens in the bucket as of the last reduction (the one-time burst aside).</summary>
    public ulong Budget { get; private set; }

    /// <summary>A full bucket, or null when <c>size</c> or <c>refill_time</c> is 0 (that token type is then not limited).</summary>
    public static TokenBucket? Create(TokenBucketSettings? settings, long now) =>
        settings is { Size: > 0, RefillTimeMs: > 0 } s ? new TokenBucket(s.Size, s.OneTimeBurst, s.RefillTimeMs, now) : null;

    /// <summary>
    /// Takes <paramref name="tokens"/>: from the one-time burst first, the rest from the refilled budget.
    /// A request larger than the whole bucket empties it and is allowed as an over-consumption. As upstream,
    /// burst tokens taken towards a request that then fails stay spent.
    /// </summary>
    public BucketReduction Reduce(ulong tokens, long now)
    {
        if (OneTimeBurst > 0)
        {
            if (OneTimeBurst >= tokens)
            {
                OneTimeBurst -= tokens;
                lastUpdate = now;
                return BucketReduction.Success;
            }

            tokens -= OneTimeBurst;
            OneTimeBurst = 0;
        }

        var elapsed = (ulong)Math.Max(0, now - lastUpdate);
        lastUpdate = now;
        var refilled = (UInt128)elapsed * processedCapacity / processedRefillTime;
        Budget = (ulong)UInt128.Min(Budget + refilled, Size);

        if (tokens > Budget)
        {
            if (tokens > Size)
            {
                tokens -= Budget;
                Budget = 0;
                return new BucketReduction(BucketReductionKind.OverConsumption, (double)tokens / Size);
            }

            return BucketReduction.Failure;
        }

        Budget -= tokens;
        return BucketReduction.Success;
    }

    /// <summary>Gives tokens back (to undo a reduction): to the one-time burst while any is left, else to the budget, up to Size.</summary>
    public void Replenish(ulong tokens)
    {
        if (OneTimeBurst > 0)
        {
            OneTimeBurst += tokens;
            return;
        }

        Budget = (ulong)UInt128.Min((UInt128)Budget + tokens, Size);
    }

    private static UInt128 Gcd(UInt128 x, UInt128 y)
    {
        while (y != 0)
        {
            (x, y) = (y, x % y);
        }

        return x;
    }
}
