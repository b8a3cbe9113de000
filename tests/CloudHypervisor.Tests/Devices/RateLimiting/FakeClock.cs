using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Tests.Devices.RateLimiting;

/// <summary>A clock that moves only when the test says so.</summary>
internal sealed class FakeClock : IMonotonicClock
{
    private long now = 1_000_000_000_000;

    public long NowNanoseconds => Interlocked.Read(ref now);

    public void AdvanceMs(double milliseconds) => Interlocked.Add(ref now, (long)(milliseconds * 1_000_000));
}
