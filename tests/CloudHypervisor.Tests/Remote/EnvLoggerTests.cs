using CloudHypervisor.Api.Client.Remote;

namespace CloudHypervisor.Tests.Remote;

public class EnvLoggerTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("error", true)]
    [InlineData("WARN", true)]
    [InlineData("off", false)]
    [InlineData("ch_remote=off", false)]
    [InlineData("info,ch_remote=off", false)]
    [InlineData("off,ch_remote=error", true)]
    [InlineData("ch_remote", true)]
    [InlineData("ch=debug", true)]
    [InlineData("vmm=debug", false)]
    public void RustLogDecidesWhetherErrorsAreShown(string? rustLog, bool shown)
    {
        var host = new FakeRemoteHost();
        if (rustLog is not null)
        {
            host.Environment["RUST_LOG"] = rustLog;
        }

        EnvLogger.FromEnvironment(host).Error("boom");
        Assert.Equal(shown ? "[2026-11-21T10:00:00Z ERROR ch_remote] boom\n" : string.Empty, host.Stderr);
    }

    [Fact]
    public void InvalidLevelsAreReportedAndIgnored()
    {
        var host = new FakeRemoteHost();
        host.Environment["RUST_LOG"] = "ch_remote=loud";
        var logger = EnvLogger.FromEnvironment(host);
        Assert.Equal("warning: invalid logging spec 'loud', ignoring it\n", host.Stderr);
        Assert.True(logger.ErrorEnabled);
    }

    [Theory]
    [InlineData(true, "xterm", null, true)]
    [InlineData(true, "dumb", null, false)]
    [InlineData(true, null, null, false)]
    [InlineData(false, "xterm", null, false)]
    [InlineData(false, null, "always", true)]
    [InlineData(true, "xterm", "never", false)]
    public void RecordsAreColouredOnColourTerminals(bool terminal, string? term, string? style, bool colored)
    {
        var host = new FakeRemoteHost { StandardErrorIsTerminal = terminal };
        if (term is not null)
        {
            host.Environment["TERM"] = term;
        }

        if (style is not null)
        {
            host.Environment["RUST_LOG_STYLE"] = style;
        }

        EnvLogger.FromEnvironment(host).Error("boom");
        Assert.Equal(
            colored
                ? "\u001b[90m[\u001b[0m2026-11-21T10:00:00Z \u001b[1m\u001b[31mERROR\u001b[0m ch_remote\u001b[90m]\u001b[0m boom\n"
                : "[2026-11-21T10:00:00Z ERROR ch_remote] boom\n",
            host.Stderr);
    }
}
