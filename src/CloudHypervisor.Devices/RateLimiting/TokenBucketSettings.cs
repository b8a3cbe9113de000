namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>
/// One bucket of `bw_*` or `ops_*`: <paramref name="Size"/> tokens refilled from empty to full in
/// <paramref name="RefillTimeMs"/> milliseconds, plus <paramref name="OneTimeBurst"/> tokens that are spent first and never refill.
/// </summary>
public sealed record TokenBucketSettings(ulong Size, ulong OneTimeBurst, ulong RefillTimeMs);

/// <summary>A limiter's two buckets; a missing bucket does not limit that token type.</summary>
public sealed record RateLimiterSettings(TokenBucketSettings? Bandwidth, TokenBucketSettings? Ops);
