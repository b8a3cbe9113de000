using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Logging;

public static class LogLevels
{
    /// <summary>-v count to level: none WARN, -v INFO, -vv DEBUG, -vvv and more TRACE.</summary>
    public static LogLevel FromVerbosity(int count) => count switch
    {
        <= 0 => LogLevel.Warn,
        1 => LogLevel.Info,
        2 => LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    public static string Name(LogLevel level) => level switch
    {
        LogLevel.Error => "ERROR",
        LogLevel.Warn => "WARN",
        LogLevel.Info => "INFO",
        LogLevel.Debug => "DEBUG",
        _ => "TRACE",
    };

    public static char Letter(LogLevel level) => Name(level)[0];
}
