using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Logging;

/// <summary>
/// The process logger: one line per record, rendered with the --log-format template and
/// terminated by "\r\n", written with a single write(2) to stderr or the --log-file.
/// </summary>
public sealed class Logger : ILogSink
{
    private static Logger? s_current;

    private readonly LogFormat _format;
    private readonly int _fd;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly object _writeLock = new();

    public Logger(LogLevel level, LogFormat format, int fd)
    {
        Level = level;
        _format = format;
        _fd = fd;
    }

    public LogLevel Level { get; }

    /// <summary>The installed logger, or null before start-up installed one.</summary>
    public static Logger? Current => s_current;

    public static void Install(Logger logger)
    {
        s_current = logger;
        Log.Sink = logger;
    }

    public bool IsEnabled(LogLevel level) => level <= Level;

    public void Write(LogLevel level, string message, string location)
    {
        if (!IsEnabled(level))
        {
            return;
        }

        string line = Render(level, message, location, DateTimeOffset.UtcNow, Stopwatch.GetElapsedTime(_start));
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        lock (_writeLock)
        {
            Libc.WriteAll(_fd, bytes);
        }
    }

    /// <summary>Renders one record (exposed for tests).</summary>
    public string Render(LogLevel level, string message, string location, DateTimeOffset now, TimeSpan sinceStart)
    {
        var line = new StringBuilder(128);
        foreach (var (token, text) in _format.Segments)
        {
            AppendToken(line, token, text, level, message, location, now, sinceStart);
        }

        return line.Append("\r\n").ToString();
    }

    private static void AppendToken(StringBuilder line, LogToken token, string text, LogLevel level, string message, string location, DateTimeOffset utc, TimeSpan sinceStart)
    {
        var local = token >= LogToken.LocalYear || token == LogToken.LocalGlog ? utc.ToLocalTime() : utc;
        var inv = CultureInfo.InvariantCulture;
        switch (token)
        {
            case LogToken.Literal: line.Append(text); break;
            case LogToken.BootTime: line.Append(((float)sinceStart.TotalSeconds).ToString("F6", inv).PadLeft(10)); break;
            case LogToken.WallClock: line.Append(utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", inv)); break;
            case LogToken.Glog: line.Append(utc.ToString("MMdd HH:mm:ss.ffffff", inv)); break;
            case LogToken.LocalGlog: line.Append(local.ToString("MMdd HH:mm:ss.ffffff", inv)); break;
            case LogToken.Pid: line.Append(Environment.ProcessId.ToString(inv)); break;
            case LogToken.Tid: line.Append(Libc.GetTid().ToString(inv)); break;
            case LogToken.Thread: line.Append(Thread.CurrentThread.Name ?? "anonymous"); break;
            case LogToken.Level: line.Append(LogLevels.Name(level)); break;
            case LogToken.LevelChar: line.Append(LogLevels.Letter(level)); break;
            case LogToken.Location: line.Append(location); break;
            case LogToken.Message: line.Append(message); break;
            case LogToken.Year or LogToken.LocalYear: line.Append(local.ToString("yyyy", inv)); break;
            case LogToken.Month or LogToken.LocalMonth: line.Append(local.ToString("MM", inv)); break;
            case LogToken.Day or LogToken.LocalDay: line.Append(local.ToString("dd", inv)); break;
            case LogToken.Hour or LogToken.LocalHour: line.Append(local.ToString("HH", inv)); break;
            case LogToken.Minute or LogToken.LocalMinute: line.Append(local.ToString("mm", inv)); break;
            case LogToken.Second or LogToken.LocalSecond: line.Append(local.ToString("ss", inv)); break;
            case LogToken.Micros or LogToken.LocalMicros: line.Append(local.ToString("ffffff", inv)); break;
            case LogToken.Offset or LogToken.LocalOffset: line.Append(local.ToString("zzz", inv)); break;
        }
    }

    /// <summary>"CloudHypervisor.Vmm/Config/X.cs:12": the caller's path below src/, like upstream's workspace-relative file:line.</summary>
    public static string Location(string filePath, int line)
    {
        int src = filePath.LastIndexOf("/src/", StringComparison.Ordinal);
        string relative = src >= 0 ? filePath[(src + 5)..] : Path.GetFileName(filePath);
        return string.Create(CultureInfo.InvariantCulture, $"{relative}:{line}");
    }
}
