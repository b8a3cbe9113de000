using CloudHypervisor.Vmm.Config.OptionParsing;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Logging;

namespace CloudHypervisor.Tests.Cli;

public sealed class OptionSyntaxTests
{
    [Theory]
    [InlineData("a=1,b=[1,2],c=\"x,y\"", new[] { "a=1", "b=[1,2]", "c=\"x,y\"" })]
    [InlineData("  a=1 ", new[] { "a=1" })]
    [InlineData("t=[[1,2],[3,4]]", new[] { "t=[[1,2],[3,4]]" })]
    public void SplitsOnTopLevelCommasOnly(string input, string[] expected) => Assert.Equal(expected, OptionSyntax.SplitCommas(input));

    [Theory]
    [InlineData("a=[")]
    [InlineData("a=]")]
    [InlineData("a=\"x")]
    [InlineData("t=[[[]]]]")]
    public void UnbalancedInputIsInvalidSyntax(string input)
    {
        var error = Assert.Throws<OptionParserException>(() => new OptionParser("a", "t").Parse(input));
        Assert.Equal($"Invalid syntax: {input}", error.Message);
    }

    [Theory]
    [InlineData("a=\"b\"", "a=b")]
    [InlineData("\"a\"\"\"", "a\"")]
    public void DequoteRemovesQuotes(string input, string expected) => Assert.Equal(expected, OptionSyntax.Dequote(input));

    [Theory]
    [InlineData("1K", 1024UL)]
    [InlineData("2M", 2UL << 20)]
    [InlineData("1MK", 1024UL)]
    [InlineData("7", 7UL)]
    public void ByteSizesUseBinaryUnits(string raw, ulong expected)
    {
        Assert.True(ValueConverters.ByteSize(raw, out ulong value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1k")]
    [InlineData("1T")]
    [InlineData("K")]
    [InlineData("")]
    public void RejectsOtherSizes(string raw) => Assert.False(ValueConverters.ByteSize(raw, out _));

    [Fact]
    public void LastDuplicateKeyWinsAndEmptyValueIsUnset()
    {
        var parser = new OptionParser("size", "extra").Parse("size=1,size=2,extra=");
        Assert.Equal("2", parser.Get("size"));
        Assert.True(parser.IsSet("extra"));
        Assert.Null(parser.Get("extra"));
    }

    [Fact]
    public void LogFormatRendersTokensAndEscapes()
    {
        var logger = new Logger(LogLevel.Info, LogFormat.Parse("{{{level}}} {levelchar} {location} -- {msg} {boottime}s"), fd: 2);
        string line = logger.Render(LogLevel.Warn, "hello", "vmm/src/lib.rs:1", DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(12.5));
        Assert.Equal("{WARN} W vmm/src/lib.rs:1 -- hello   0.012500s\r\n", line);
    }

    [Theory]
    [InlineData("{nope}", "Unknown format token '{nope}'")]
    [InlineData("abc {level", "Unterminated '{' in format string")]
    [InlineData("a } b", "Unmatched '}' in format string")]
    public void BadLogFormatsAreRejected(string format, string message) =>
        Assert.Equal(message, Assert.Throws<LogFormatException>(() => LogFormat.Parse(format)).Message);
}
