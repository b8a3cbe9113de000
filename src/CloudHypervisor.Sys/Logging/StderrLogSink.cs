using System.Diagnostics;
using System.Text;

namespace CloudHypervisor.Sys.Logging;

/// <summary>Upstream's default line format on stderr, for use before the configured logger exists.</summary>
public sealed class StderrLogSink : ILogSink
{
    private readonly LogLevel maxLevel;
    private readonly long start = Stopwatch.GetTimestamp();
    private readonly object gate = new();

    public StderrLogSink(LogLevel maxLevel)
    {
        this.maxLevel = maxLevel;
    }

    public bool IsEnabled(LogLevel level) => level <= maxLevel;

    public void Write(LogLevel level, string message, string location)
    {
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var thread = Thread.CurrentThread.Name ?? "anonymous";
        var line = $"cloud-hypervisor: {seconds,10:F6}s: <{thread}> {level.ToString().ToUpperInvariant()}:{location} -- {message}\r\n";
        lock (gate)
        {
            var stderr = Console.OpenStandardError();
            stderr.Write(Encoding.UTF8.GetBytes(line));
            stderr.Flush();
        }
    }
}
