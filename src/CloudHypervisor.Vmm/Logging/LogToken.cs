namespace CloudHypervisor.Vmm.Logging;

/// <summary>The placeholders a log format may contain.</summary>
public enum LogToken
{
    Literal,
    BootTime,
    WallClock,
    Glog,
    LocalGlog,
    Pid,
    Tid,
    Thread,
    Level,
    LevelChar,
    Location,
    Message,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Micros,
    Offset,
    LocalYear,
    LocalMonth,
    LocalDay,
    LocalHour,
    LocalMinute,
    LocalSecond,
    LocalMicros,
    LocalOffset,
}
