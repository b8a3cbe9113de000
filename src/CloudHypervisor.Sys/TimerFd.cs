using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>A non-blocking CLOCK_MONOTONIC timerfd armed one shot at a time: readable once it expires, until read.</summary>
public sealed class TimerFd : IDisposable
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    public TimerFd()
    {
        Handle = SafeFd.FromResult(Libc.TimerFdCreate(Libc.ClockMonotonic, Libc.TfdNonBlock | Libc.TfdCloExec));
    }

    public SafeFd Handle { get; }

    public int Fd => Handle.Fd;

    /// <summary>Arms the timer to expire once after <paramref name="nanoseconds"/> (at least 1 ns: zero would disarm it).</summary>
    public unsafe void ArmOnce(long nanoseconds)
    {
        nanoseconds = Math.Max(1, nanoseconds);
        var spec = new Libc.ITimerSpec
        {
            Value = new Libc.TimeSpec { Seconds = nanoseconds / NanosecondsPerSecond, Nanoseconds = nanoseconds % NanosecondsPerSecond },
        };
        if (Libc.TimerFdSetTime(Fd, 0, &spec, null) != 0)
        {
            throw OsException.Last();
        }
    }

    /// <summary>Disarms the timer; an expiry not yet read stays readable.</summary>
    public unsafe void Disarm()
    {
        var spec = default(Libc.ITimerSpec);
        if (Libc.TimerFdSetTime(Fd, 0, &spec, null) != 0)
        {
            throw OsException.Last();
        }
    }

    /// <summary>Reads the expiry count, which makes the descriptor unreadable again; 0 when it has not expired.</summary>
    public unsafe ulong Read()
    {
        ulong expirations = 0;
        return Libc.Read(Fd, (byte*)&expirations, sizeof(ulong)) == sizeof(ulong) ? expirations : 0;
    }

    public void Dispose() => Handle.Dispose();
}
