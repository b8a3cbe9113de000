namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>
/// Upstream's rate limiter: a bandwidth bucket (bytes) and an ops bucket (requests), either optional.
/// When a bucket runs dry the limiter blocks for upstream's 100 ms refill interval, during which every
/// <see cref="Consume"/> fails; a request larger than a whole bucket is let through and blocks the
/// limiter for as many refill times as it borrowed. Upstream keeps the blocked state in a timerfd that
/// its event loop reads; here it is a deadline on the injected clock, and the devices arm their own
/// timers for it (<see cref="ThrottleWake"/>).
/// </summary>
/// <remarks>
/// Thread-safe, so one limiter is also what upstream calls a rate-limit group (`--rate-limit-group`): the
/// disks naming the group share this one instance, each parking its queues and waking on its own timer
/// at the shared deadline, where upstream runs a group thread that re-broadcasts its timer to every disk.
/// </remarks>
public sealed class RateLimiter
{
    /// <summary>How long the limiter blocks when a bucket has too few tokens.</summary>
    public const long RefillTimerIntervalMs = 100;

    private const long NanosecondsPerMillisecond = 1_000_000;

    private readonly Lock gate = new();
    private long blockedUntil = long.MinValue;

    public RateLimiter(RateLimiterSettings settings, IMonotonicClock? clock = null)
    {
        Clock = clock ?? SystemMonotonicClock.Instance;
        var now = Clock.NowNanoseconds;
        Bandwidth = TokenBucket.Create(settings.Bandwidth, now);
        Ops = TokenBucket.Create(settings.Ops, now);
    }

    public IMonotonicClock Clock { get; }

    /// <summary>The bytes bucket, or null when bandwidth is not limited.</summary>
    public TokenBucket? Bandwidth { get; }

    /// <summary>The requests bucket, or null when operations are not limited.</summary>
    public TokenBucket? Ops { get; }

    /// <summary>Whether consumption is refused until <see cref="BlockedUntil"/>.</summary>
    public bool IsBlocked => Clock.NowNanoseconds < Volatile.Read(ref blockedUntil);

    /// <summary>The clock time (ns) at which a blocked limiter accepts consumption again.</summary>
    public long BlockedUntil => Volatile.Read(ref blockedUntil);

    /// <summary>
    /// Takes <paramref name="tokens"/> of <paramref name="type"/>; false (nothing taken) while blocked or when the
    /// bucket is short, which blocks the limiter. Always true for a type without a bucket, unless blocked.
    /// </summary>
    public bool Consume(ulong tokens, TokenType type)
    {
        lock (gate)
        {
            var now = Clock.NowNanoseconds;
            if (now < blockedUntil)
            {
                return false;
            }

            var bucket = type == TokenType.Bytes ? Bandwidth : Ops;
            if (bucket is null)
            {
                return true;
            }

            var refillTimeMs = bucket.RefillTimeMs;
            var reduction = bucket.Reduce(tokens, now);
            switch (reduction.Kind)
            {
                case BucketReductionKind.Failure:
                    blockedUntil = now + (RefillTimerIntervalMs * NanosecondsPerMillisecond);
                    return false;
                case BucketReductionKind.OverConsumption:
                    // Upstream arms its timer for whole milliseconds of ratio × refill time.
                    var milliseconds = (long)Math.Min(reduction.Ratio * refillTimeMs, long.MaxValue / NanosecondsPerMillisecond / 2);
                    blockedUntil = now + (milliseconds * NanosecondsPerMillisecond);
                    return true;
                default:
                    return true;
            }
        }
    }

    /// <summary>Gives back tokens taken by a <see cref="Consume"/> whose request did not go ahead after all.</summary>
    public void ManualReplenish(ulong tokens, TokenType type)
    {
        lock (gate)
        {
            (type == TokenType.Bytes ? Bandwidth : Ops)?.Replenish(tokens);
        }
    }
}
