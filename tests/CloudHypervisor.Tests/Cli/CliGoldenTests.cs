using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Tests.Cli;

/// <summary>
/// Golden command lines (test_data/cli/golden.jsonl): each line is one argv with the expected
/// VmConfig JSON, the expected error chain (exit 1) or the expected clap text (exit 0/2).
/// Set CLI_GOLDEN_REGENERATE=1 to rewrite the expectations from the current implementation.
/// </summary>
public sealed partial class CliGoldenTests
{
    private static readonly string GoldenPath = Path.Combine(RepoRoot(), "test_data", "cli", "golden.jsonl");

    public static IEnumerable<object[]> Cases()
    {
        int line = 0;
        foreach (string text in File.ReadLines(GoldenPath))
        {
            line++;
            if (text.Length > 0)
            {
                yield return [line];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CommandLineProducesExpectedOutcome(int line)
    {
        var golden = JsonNode.Parse(File.ReadLines(GoldenPath).ElementAt(line - 1))!.AsObject();
        string[] argv = golden["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
        var actual = Outcome(argv);
        if (Environment.GetEnvironmentVariable("CLI_GOLDEN_REGENERATE") == "1")
        {
            return;
        }

        golden.Remove("args");
        string expected = golden.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        string got = actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Assert.True(expected == got, $"cloud-hypervisor {string.Join(' ', argv.Select(Quote))}\n{Diff(expected, got)}");
    }

    /// <summary>Regenerates the golden file in one pass (only when CLI_GOLDEN_REGENERATE=1).</summary>
    [Fact]
    public void RegenerateWhenAsked()
    {
        if (Environment.GetEnvironmentVariable("CLI_GOLDEN_REGENERATE") != "1")
        {
            return;
        }

        var lines = new List<string>();
        foreach (string text in File.ReadLines(GoldenPath).ToList())
        {
            var golden = JsonNode.Parse(text)!.AsObject();
            var argv = golden["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
            var outcome = Outcome(argv);
            outcome.Insert(0, "args", new JsonArray(argv.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()));
            lines.Add(outcome.ToJsonString());
        }

        File.WriteAllLines(GoldenPath, lines);
    }

    internal static JsonObject Outcome(string[] argv)
    {
        ParsedArguments parsed;
        try
        {
            parsed = ArgvParser.Parse(argv);
        }
        catch (CommandLineExit exit)
        {
            return new JsonObject { ["exit"] = exit.ExitCode, [exit.ToStdout ? "stdout" : "stderr"] = exit.Text };
        }

        LaunchOptions options;
        try
        {
            try
            {
                CloudHypervisor.Vmm.Logging.LogFormat.Parse(parsed.One("log-format")!);
            }
            catch (CloudHypervisor.Vmm.Logging.LogFormatException e)
            {
                throw new CliException("Error parsing logger format", e);
            }

            options = LaunchOptionsBuilder.Build(parsed);
        }
        catch (CloudHypervisor.Sys.Errors.ChainedException e)
        {
            return new JsonObject { ["exit"] = 1, ["stderr"] = ErrorReport.Render(e) };
        }

        if (options.VmConfigError is { } error)
        {
            return new JsonObject { ["exit"] = 1, ["stderr"] = ErrorReport.Render(error) };
        }

        var result = new JsonObject();
        if (options.VmConfig is { } config)
        {
            string json = JsonSerializer.Serialize(config, ContractsJsonContext.Default.VmConfig);
            result["config"] = JsonNode.Parse(RandomMac().Replace(json, "\"mac\":\"2e:<random>\""));
        }

        if (options.Restore is { } restore)
        {
            result["restore"] = JsonNode.Parse(JsonSerializer.Serialize(restore, ContractsJsonContext.Default.RestoreConfig));
        }

        result["launch"] = new JsonObject
        {
            ["api_socket_path"] = options.ApiSocketPath,
            ["api_socket_fd"] = options.ApiSocketFd,
            ["event_monitor_path"] = options.EventMonitorPath,
            ["event_monitor_fd"] = options.EventMonitorFd,
            ["seccomp"] = options.Seccomp.ToString(),
            ["log_level"] = options.LogLevel.ToString(),
            ["log_file"] = options.LogFile,
            ["no_shutdown"] = options.NoShutdown,
        };
        return result;
    }

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_=,./:@".Contains(c)) ? arg : $"'{arg}'";

    private static string Diff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var lines = new List<string>();
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? l = i < e.Length ? e[i] : null, r = i < a.Length ? a[i] : null;
            if (l != r)
            {
                lines.Add($"- {l}");
                lines.Add($"+ {r}");
            }
        }

        return string.Join('\n', lines);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CloudHypervisor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found");
    }

    // A generated MAC is random but must still be 2e:xx:xx:xx:xx:xx.
    [GeneratedRegex("\"mac\":\"2e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}\"")]
    private static partial Regex RandomMac();
}
