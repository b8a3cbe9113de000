using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Vmm;

namespace CloudHypervisor.IntegrationTests.Cli;

/// <summary>Runs the published binary for command-line tests and reads upstream's error block back.</summary>
internal static partial class CliProcess
{
    public const string ChainHeader = "Error: Cloud Hypervisor exited with the following chain of errors:";
    public const string SingleHeader = "Error: Cloud Hypervisor exited with the following error:";

    /// <summary>What upstream reports when it cannot open /dev/kvm, which it does before parsing the VM configuration.</summary>
    public const string NoHypervisor = "0: Failed to open hypervisor interface (is hypervisor interface available?)";

    public static Task<ProcessResult> RunAsync(params string[] arguments) => VmmBinary.RunAsync(arguments, timeoutSeconds: 20);

    /// <summary>The numbered lines of the error block ("0: Error parsing config", ...), indentation removed.</summary>
    public static string[] Chain(string stderr)
    {
        var lines = stderr.Split('\n');
        int header = Array.IndexOf(lines, ChainHeader);
        if (header < 0)
        {
            int single = Array.IndexOf(lines, SingleHeader);
            Assert.True(single >= 0, $"no error block on stderr:\n{stderr}");
            return [lines[single + 1].Trim()];
        }

        return lines.Skip(header + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
    }

    /// <summary>Exit code as given, quick, silent on stdout, and no .NET exception text anywhere.</summary>
    public static void AssertFailedCleanly(ProcessResult result, int exitCode)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit code {exitCode}\n{result}");
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(1), $"took {result.Elapsed.TotalMilliseconds:F0} ms\n{result}");
        Assert.True(result.StandardOutput.Length == 0, $"stdout should be empty\n{result}");
        Assert.False(StackFrame().IsMatch(result.StandardError), $"stack trace on stderr\n{result}");
        Assert.DoesNotContain("Unhandled exception", result.StandardError);
        Assert.False(DotNetExceptionName().IsMatch(result.StandardError), $".NET exception type on stderr\n{result}");
    }

    /// <summary>
    /// A configuration error is reported only once /dev/kvm is open, as upstream does; without KVM the
    /// hypervisor error comes first, so only that is checked then.
    /// </summary>
    public static void AssertConfigError(ProcessResult result, params string[] chain)
    {
        AssertFailedCleanly(result, 1);
        var actual = Chain(result.StandardError);
        if (TestEnvironment.KvmUnavailableReason() is not null)
        {
            Assert.Equal(NoHypervisor, actual[0]);
            return;
        }

        Assert.Equal(chain, actual);
    }

    /// <summary>The "Fatal error:" log record: the whole cause chain on one line.</summary>
    public static string FatalErrorLine(string stderr)
    {
        var lines = stderr.Split('\n').Where(l => l.Contains(" -- Fatal error: ", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length == 1, $"expected one Fatal error record:\n{stderr}");
        return lines[0];
    }

    [GeneratedRegex(@"^\s+at \S+", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\bSystem\.\w+Exception\b|\b\w+Exception:")]
    private static partial Regex DotNetExceptionName();
}
