using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>The bw_*/ops_* token bucket keys of --disk, --net and --rate-limit-group.</summary>
internal static class RateLimiting
{
    public static readonly string[] Keys = ["bw_size", "bw_one_time_burst", "bw_refill_time", "ops_size", "ops_one_time_burst", "ops_refill_time"];

    /// <summary>A bucket exists only when both its size and refill time are non-zero.</summary>
    public static (TokenBucket? Bandwidth, TokenBucket? Ops) Read(OptionParser p)
    {
        ulong bwSize = p.U64("bw_size") ?? 0, bwBurst = p.U64("bw_one_time_burst") ?? 0, bwRefill = p.U64("bw_refill_time") ?? 0;
        ulong opsSize = p.U64("ops_size") ?? 0, opsBurst = p.U64("ops_one_time_burst") ?? 0, opsRefill = p.U64("ops_refill_time") ?? 0;
        return (Bucket(bwSize, bwBurst, bwRefill), Bucket(opsSize, opsBurst, opsRefill));
    }

    public static RateLimiterConfig? Limiter(OptionParser p)
    {
        var (bandwidth, ops) = Read(p);
        return bandwidth is null && ops is null ? null : new RateLimiterConfig { Bandwidth = bandwidth, Ops = ops };
    }

    private static TokenBucket? Bucket(ulong size, ulong burst, ulong refill) =>
        size != 0 && refill != 0 ? new TokenBucket { Size = size, OneTimeBurst = burst, RefillTime = refill } : null;
}
