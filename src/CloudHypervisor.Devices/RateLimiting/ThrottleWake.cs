namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>
/// What brings an I/O thread back to queues it parked because a limiter was blocked: one timer armed for
/// the earliest deadline among its limiters. When it fires the thread acknowledges it and processes every
/// queue again; a queue whose limiter is still blocked parks again. Used on the I/O thread only.
/// </summary>
public sealed class ThrottleWake(IWakeTimer timer) : IDisposable
{
    private bool armed;
    private long armedDeadline;

    /// <summary>The descriptor the I/O thread waits on.</summary>
    public int Fd => timer.Fd;

    /// <summary>Makes sure the thread wakes by the time <paramref name="limiter"/> unblocks.</summary>
    public void ParkUntilUnblocked(RateLimiter limiter)
    {
        var deadline = limiter.BlockedUntil;
        if (armed && armedDeadline <= deadline)
        {
            return;
        }

        armed = true;
        armedDeadline = deadline;
        timer.ArmAfter(deadline - limiter.Clock.NowNanoseconds);
    }

    /// <summary>Called by the thread when <see cref="Fd"/> is readable, before it processes the queues again.</summary>
    public void Fired()
    {
        armed = false;
        timer.Acknowledge();
    }

    public void Dispose() => timer.Dispose();
}
