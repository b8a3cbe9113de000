using CloudHypervisor.Devices.RateLimiting;

namespace CloudHypervisor.Tests.Devices.RateLimiting;

/// <summary>
/// A wake timer the test fires by hand: an eventfd the device's I/O thread polls like a timerfd, and a
/// record of how far ahead the device last armed it.
/// </summary>
internal sealed class ManualWakeTimer : IWakeTimer
{
    private readonly CloudHypervisor.Sys.EventFd fired = new(nonBlocking: true);
    private long armedNs = -1;

    public int Fd => fired.Fd;

    /// <summary>The delay of the last arming, or null when the timer is not armed.</summary>
    public long? ArmedNanoseconds
    {
        get
        {
            var value = Interlocked.Read(ref armedNs);
            return value < 0 ? null : value;
        }
    }

    public int Armings { get; private set; }

    public void ArmAfter(long nanoseconds)
    {
        Interlocked.Exchange(ref armedNs, nanoseconds);
        Armings++;
    }

    public void Acknowledge() => fired.Read();

    /// <summary>What the kernel does at expiry: disarm and make the descriptor readable.</summary>
    public void Fire()
    {
        Interlocked.Exchange(ref armedNs, -1);
        fired.Write();
    }

    public void Dispose() => fired.Dispose();
}
