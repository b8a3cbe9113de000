namespace CloudHypervisor.IntegrationTests.Cli;

/// <summary>
/// What the published binary does before any VMM work: --version, --help, no arguments and clap's
/// usage errors. None of this touches /dev/kvm.
/// </summary>
public sealed class CliFrontEndTests
{
    [Theory]
    [InlineData("--version")]
    [InlineData("-V")]
    public async Task VersionPrintsTheBinaryNameVersionAndMigrationProtocolsAndExitsZero(string flag)
    {
        var result = await CliProcess.RunAsync(flag);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("cloud-hypervisor v54.0.0\nMigration Protocol Versions: 0\n", result.StandardOutput);
        Assert.Equal(string.Empty, result.StandardError);
    }

    [Fact]
    public async Task VersionWithVerbosityAlsoListsTheEnabledFeatures()
    {
        var result = await CliProcess.RunAsync("-v", "--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.EndsWith("\nEnabled features: [\"io_uring\", \"kvm\"]\n", result.StandardOutput);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task HelpGoesToStdoutAndExitsZero(string flag)
    {
        var result = await CliProcess.RunAsync(flag);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("Launch a cloud-hypervisor VMM.\n\nUsage: cloud-hypervisor [OPTIONS]\n\nOptions:\n", result.StandardOutput);
        Assert.Contains("      --disk <disk>...\n", result.StandardOutput);
        Assert.Contains("  -V, --version\n          Print version\n", result.StandardOutput);
        Assert.Equal(string.Empty, result.StandardError);
    }

    [Fact]
    public async Task NoArgumentsPrintsTheHelpOnStderrAndExitsTwo()
    {
        var result = await CliProcess.RunAsync();

        CliProcess.AssertFailedCleanly(result, 2);
        Assert.StartsWith("Launch a cloud-hypervisor VMM.\n\nUsage: cloud-hypervisor [OPTIONS]\n", result.StandardError);
    }

    [Fact]
    public async Task AnUnknownOptionIsClapsUsageError()
    {
        var result = await CliProcess.RunAsync("--kernel", "k", "--foo");

        CliProcess.AssertFailedCleanly(result, 2);
        Assert.Equal(
            "error: unexpected argument '--foo' found\n\nUsage: cloud-hypervisor [OPTIONS]\n\nFor more information, try '--help'.\n",
            result.StandardError);
    }

    [Fact]
    public async Task AMistypedOptionGetsClapsSuggestion()
    {
        var result = await CliProcess.RunAsync("--dsk", "path=a");

        CliProcess.AssertFailedCleanly(result, 2);
        Assert.StartsWith("error: unexpected argument '--dsk' found\n\n  tip: a similar argument exists: '--disk'\n", result.StandardError);
    }

    [Theory]
    [InlineData(new[] { "--kernel" }, "error: a value is required for '--kernel <kernel>' but none was supplied")]
    [InlineData(new[] { "--kernel", "a", "--kernel", "b" }, "error: the argument '--kernel <kernel>' cannot be used multiple times")]
    [InlineData(new[] { "--kernel", "k", "--seccomp", "bad" }, "error: invalid value 'bad' for '--seccomp <seccomp>'")]
    [InlineData(new[] { "--disk", "path=a" }, "error: the following required arguments were not provided:")]
    [InlineData(new[] { "--kernel", "k", "--pvpanic=1" }, "error: unexpected value '1' for '--pvpanic' found; no more were expected")]
    [InlineData(new[] { "--gdb", "path=/tmp/g" }, "error: unexpected argument '--gdb' found")]
    public async Task UsageErrorsExitTwoWithClapsFirstLine(string[] arguments, string firstLine)
    {
        var result = await CliProcess.RunAsync(arguments);

        CliProcess.AssertFailedCleanly(result, 2);
        Assert.Equal(firstLine, result.StandardError.Split('\n')[0]);
        Assert.EndsWith("For more information, try '--help'.\n", result.StandardError);
    }

    [Fact]
    public async Task ABadApiSocketFdFailsBeforeTheHypervisorIsOpened()
    {
        var result = await CliProcess.RunAsync("--api-socket", "fd=abc");

        CliProcess.AssertFailedCleanly(result, 1);
        Assert.Equal(["0: Error parsing --api-socket", "1: invalid digit found in string"], CliProcess.Chain(result.StandardError));
    }

    [Fact]
    public async Task ABadLogFormatFailsBeforeTheHypervisorIsOpened()
    {
        var result = await CliProcess.RunAsync("--api-socket", "/tmp/unused.sock", "--log-format", "{nope}");

        CliProcess.AssertFailedCleanly(result, 1);
        Assert.Equal(["0: Error parsing logger format", "1: Unknown format token '{nope}'"], CliProcess.Chain(result.StandardError));
    }
}
