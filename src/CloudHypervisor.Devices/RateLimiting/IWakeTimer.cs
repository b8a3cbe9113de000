using CloudHypervisor.Sys;

namespace CloudHypervisor.Devices.RateLimiting;

/// <summary>A one-shot timer a device's I/O thread polls (its <see cref="Fd"/> becomes readable when it fires).</summary>
public interface IWakeTimer : IDisposable
{
    int Fd { get; }

    /// <summary>Fires once after <paramref name="nanoseconds"/>, replacing any earlier arming.</summary>
    void ArmAfter(long nanoseconds);

    /// <summary>Consumes the expiry, so <see cref="Fd"/> is no longer readable.</summary>
    void Acknowledge();
}

/// <summary>The host's timerfd.</summary>
public sealed class TimerFdWakeTimer : IWakeTimer
{
    private readonly TimerFd timer = new();

    public int Fd => timer.Fd;

    public void ArmAfter(long nanoseconds) => timer.ArmOnce(nanoseconds);

    public void Acknowledge() => timer.Read();

    public void Dispose() => timer.Dispose();
}
