using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int ClockMonotonic = 1;
    public const int TfdNonBlock = 0x800, TfdCloExec = 0x80000;

    /// <summary>struct timespec on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct itimerspec: a zero <see cref="Value"/> disarms the timer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ITimerSpec
    {
        public TimeSpec Interval;
        public TimeSpec Value;
    }

    [LibraryImport(Name, EntryPoint = "timerfd_create", SetLastError = true)]
    public static partial int TimerFdCreate(int clockId, int flags);

    [LibraryImport(Name, EntryPoint = "timerfd_settime", SetLastError = true)]
    public static unsafe partial int TimerFdSetTime(int fd, int flags, ITimerSpec* newValue, ITimerSpec* oldValue);
}
