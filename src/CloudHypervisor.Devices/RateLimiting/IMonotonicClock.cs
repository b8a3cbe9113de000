using System.Diagnostics;

namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>A monotonic clock in nanoseconds; injected so token arithmetic is testable without sleeping.</summary>
public interface IMonotonicClock
{
    long NowNanoseconds { get; }
}

/// <summary>The host's monotonic clock (Stopwatch, CLOCK_MONOTONIC on Linux).</summary>
public sealed class SystemMonotonicClock : IMonotonicClock
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    public static SystemMonotonicClock Instance { get; } = new();

    private SystemMonotonicClock()
    {
    }

    public long NowNanoseconds => Stopwatch.Frequency == NanosecondsPerSecond
        ? Stopwatch.GetTimestamp()
        : (long)((Int128)Stopwatch.GetTimestamp() * NanosecondsPerSecond / Stopwatch.Frequency);
}
