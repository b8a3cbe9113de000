using System.Globalization;
using System.Text;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// The part of env_logger ch-remote uses: RUST_LOG decides whether error records of the
/// "ch_remote" target are shown (shown when RUST_LOG is unset or empty), and records use the
/// default format "[&lt;RFC 3339 UTC seconds&gt; ERROR ch_remote] &lt;message&gt;" on stderr, coloured
/// (grey brackets, bold red level) when stderr is a colour terminal or RUST_LOG_STYLE=always.
/// </summary>
public sealed class EnvLogger
{
    private const string Target = "ch_remote";
    private const string Grey = "\u001b[90m";
    private const string BoldRed = "\u001b[1m\u001b[31m";
    private const string Reset = "\u001b[0m";
    private static readonly string[] Levels = ["off", "error", "warn", "info", "debug", "trace"];

    private readonly IRemoteHost host;
    private readonly bool colored;

    private EnvLogger(IRemoteHost host, bool errorEnabled, bool colored)
    {
        this.host = host;
        this.colored = colored;
        ErrorEnabled = errorEnabled;
    }

    public bool ErrorEnabled { get; }

    /// <summary>Reads RUST_LOG; like env_logger, invalid directives are reported on stderr and ignored.</summary>
    public static EnvLogger FromEnvironment(IRemoteHost host)
    {
        var directives = new List<(string? Name, int Level)>();
        var spec = host.GetEnvironmentVariable("RUST_LOG") ?? string.Empty;
        var slash = spec.IndexOf('/');
        var modules = slash < 0 ? spec : spec[..slash];
        foreach (var raw in modules.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                continue;
            }

            var parts = item.Split('=');
            if (parts.Length == 1)
            {
                var level = LevelOf(parts[0]);
                directives.Add(level >= 0 ? (null, level) : (parts[0], Levels.Length - 1));
            }
            else if (parts.Length == 2 && parts[1].Trim().Length == 0)
            {
                directives.Add((parts[0], Levels.Length - 1));
            }
            else if (parts.Length == 2 && LevelOf(parts[1].Trim()) is var level and >= 0)
            {
                directives.Add((parts[0], level));
            }
            else
            {
                var shown = parts.Length == 2 ? parts[1].Trim() : item;
                host.WriteStandardError(Encoding.UTF8.GetBytes($"warning: invalid logging spec '{shown}', ignoring it\n"));
            }
        }

        return new EnvLogger(host, directives.Count == 0 || IsErrorEnabled(directives), UsesColor(host));
    }

    public void Error(string message)
    {
        if (!ErrorEnabled)
        {
            return;
        }

        var time = host.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var line = colored
            ? $"{Grey}[{Reset}{time} {BoldRed}ERROR{Reset} {Target}{Grey}]{Reset} {message}\n"
            : $"[{time} ERROR {Target}] {message}\n";
        host.WriteStandardError(Encoding.UTF8.GetBytes(line));
    }

    /// <summary>RUST_LOG_STYLE=always|never, else anstream's automatic choice (CLICOLOR_FORCE, NO_COLOR, CLICOLOR, TERM, tty).</summary>
    private static bool UsesColor(IRemoteHost host)
    {
        switch (host.GetEnvironmentVariable("RUST_LOG_STYLE"))
        {
            case "always":
                return true;
            case "never":
                return false;
        }

        if (host.GetEnvironmentVariable("CLICOLOR_FORCE") is { Length: > 0 } force && force != "0")
        {
            return true;
        }

        return string.IsNullOrEmpty(host.GetEnvironmentVariable("NO_COLOR"))
            && host.GetEnvironmentVariable("CLICOLOR") != "0"
            && host.GetEnvironmentVariable("TERM") is { } term && term != "dumb"
            && host.StandardErrorIsTerminal;
    }

    // The most specific directive whose name prefixes the target decides; later ones win ties.
    private static bool IsErrorEnabled(List<(string? Name, int Level)> directives)
    {
        var bestLength = -1;
        var level = 0;
        foreach (var (name, directiveLevel) in directives)
        {
            var length = name?.Length ?? 0;
            if ((name is null || Target.StartsWith(name, StringComparison.Ordinal)) && length >= bestLength)
            {
                bestLength = length;
                level = directiveLevel;
            }
        }

        return bestLength >= 0 && level >= 1;
    }

    private static int LevelOf(string text) => Array.IndexOf(Levels, text.ToLowerInvariant());
}
