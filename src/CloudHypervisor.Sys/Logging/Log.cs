using System.Runtime.CompilerServices;

namespace CloudHypervisor.Sys.Logging;

public enum LogLevel
{
    Error = 1,
    Warn,
    Info,
    Debug,
    Trace,
}

/// <summary>Where log records go; the launcher installs the configured logger at start-up.</summary>
public interface ILogSink
{
    bool IsEnabled(LogLevel level);

    void Write(LogLevel level, string message, string location);
}

/// <summary>
/// The logging facade every layer writes through, like the `log` crate upstream.
/// Callers check <see cref="IsEnabled"/> before formatting on hot paths.
/// </summary>
public static class Log
{
    private static readonly int SourceRootLength = SourceRoot().Length;

    public static ILogSink Sink { get; set; } = new StderrLogSink(LogLevel.Warn);

    public static bool IsEnabled(LogLevel level) => Sink.IsEnabled(level);

    public static void Error(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Write(LogLevel.Error, message, file, line);

    public static void Warn(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Write(LogLevel.Warn, message, file, line);

    public static void Info(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Write(LogLevel.Info, message, file, line);

    public static void Debug(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Write(LogLevel.Debug, message, file, line);

    public static void Trace(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Write(LogLevel.Trace, message, file, line);

    private static void Write(LogLevel level, string message, string file, int line)
    {
        if (Sink.IsEnabled(level))
        {
            Sink.Write(level, message, $"{Relative(file)}:{line}");
        }
    }

    /// <summary>Source paths relative to the repository's src/ folder, as upstream prints workspace-relative paths.</summary>
    private static string Relative(string file) =>
        file.Length > SourceRootLength && file.StartsWith(SourceRoot(), StringComparison.Ordinal) ? file[SourceRootLength..] : file;

    private static string SourceRoot([CallerFilePath] string self = "")
    {
        var marker = self.LastIndexOf("/CloudHypervisor.Sys/", StringComparison.Ordinal);
        return marker < 0 ? string.Empty : self[..(marker + 1)];
    }
}
