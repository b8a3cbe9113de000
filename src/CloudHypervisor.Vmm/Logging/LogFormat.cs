using System.Text;

namespace CloudHypervisor.Vmm.Logging;

/// <summary>A parsed log line template: literal text and {token} placeholders; "{{" and "}}" escape braces.</summary>
public sealed class LogFormat
{
    public const string Default = "cloud-hypervisor: {boottime}s: <{thread}> {level}:{location} -- {msg}";

    private LogFormat(IReadOnlyList<(LogToken Token, string Text)> segments) => Segments = segments;

    public IReadOnlyList<(LogToken Token, string Text)> Segments { get; }

    public static LogFormat Parse(string format)
    {
        var segments = new List<(LogToken, string)>();
        var literal = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '{')
            {
                if (i + 1 < format.Length && format[i + 1] == '{')
                {
                    literal.Append('{');
                    i++;
                    continue;
                }

                int close = format.IndexOf('}', i + 1);
                if (close < 0)
                {
                    throw LogFormatException.Unterminated();
                }

                string name = format[(i + 1)..close];
                var token = Lookup(name) ?? throw LogFormatException.UnknownToken(name);
                if (literal.Length > 0)
                {
                    segments.Add((LogToken.Literal, literal.ToString()));
                    literal.Clear();
                }

                segments.Add((token, name));
                i = close;
            }
            else if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }

                throw LogFormatException.Unmatched();
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            segments.Add((LogToken.Literal, literal.ToString()));
        }

        return new LogFormat(segments);
    }

    private static LogToken? Lookup(string name) => name switch
    {
        "boottime" => LogToken.BootTime,
        "wallclock" => LogToken.WallClock,
        "glog" => LogToken.Glog,
        "localglog" => LogToken.LocalGlog,
        "pid" => LogToken.Pid,
        "tid" => LogToken.Tid,
        "thread" => LogToken.Thread,
        "level" => LogToken.Level,
        "levelchar" => LogToken.LevelChar,
        "location" => LogToken.Location,
        "msg" => LogToken.Message,
        "year" => LogToken.Year,
        "month" => LogToken.Month,
        "day" => LogToken.Day,
        "hour" => LogToken.Hour,
        "minute" => LogToken.Minute,
        "second" => LogToken.Second,
        "micros" => LogToken.Micros,
        "offset" => LogToken.Offset,
        "localyear" => LogToken.LocalYear,
        "localmonth" => LogToken.LocalMonth,
        "localday" => LogToken.LocalDay,
        "localhour" => LogToken.LocalHour,
        "localminute" => LogToken.LocalMinute,
        "localsecond" => LogToken.LocalSecond,
        "localmicros" => LogToken.LocalMicros,
        "localoffset" => LogToken.LocalOffset,
        _ => null,
    };
}
