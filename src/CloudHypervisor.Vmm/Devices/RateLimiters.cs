using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>Turns `bw_*`/`ops_*` configuration into limiter settings, and `--rate-limit-group`s into the limiters their disks share.</summary>
internal static class RateLimiters
{
    public static RateLimiterSettings Settings(RateLimiterConfig config) => new(Bucket(config.Bandwidth), Bucket(config.Ops));

    /// <summary>One limiter per group, by id; every disk naming the group gets that same instance.</summary>
    public static Dictionary<string, RateLimiter> Groups(VmConfig config)
    {
        var groups = new Dictionary<string, RateLimiter>(StringComparer.Ordinal);
        foreach (var group in config.RateLimitGroups ?? [])
        {
            groups[group.Id] = new RateLimiter(Settings(group.RateLimiterConfig));
        }

        return groups;
    }

    private static TokenBucketSettings? Bucket(Contracts.TokenBucket? bucket) =>
        bucket is null ? null : new TokenBucketSettings(bucket.Size, bucket.OneTimeBurst ?? 0, bucket.RefillTime);
}
