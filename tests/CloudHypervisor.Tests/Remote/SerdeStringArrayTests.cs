using CloudHypervisor.Api.Client;

namespace CloudHypervisor.Tests.Remote;

public class SerdeStringArrayTests
{
    [Fact]
    public void ReadsAnErrorChainWithEscapes()
    {
        Assert.True(SerdeStringArray.TryParse(""" [ "Error from API" , "Destination is not a directory: \"/tmp/ch.dump\"", "é\u00e9\n" ] """, out var items, out _));
        Assert.Equal(["Error from API", "Destination is not a directory: \"/tmp/ch.dump\"", "éé\n"], items);
        Assert.True(SerdeStringArray.TryParse("[]", out var empty, out _));
        Assert.Empty(empty);
    }

    [Theory]
    [InlineData("", "EOF while parsing a value at line 1 column 0")]
    [InlineData("   ", "EOF while parsing a value at line 1 column 3")]
    [InlineData("{ \"error\": \"Too many open connections\" }", "invalid type: map, expected a sequence at line 1 column 0")]
    [InlineData("Not Found", "expected value at line 1 column 1")]
    [InlineData("\"abc\"", "invalid type: string \"abc\", expected a sequence at line 1 column 5")]
    [InlineData("null", "invalid type: null, expected a sequence at line 1 column 4")]
    [InlineData("42", "invalid type: integer `42`, expected a sequence at line 1 column 2")]
    [InlineData("[1]", "invalid type: integer `1`, expected a string at line 1 column 2")]
    [InlineData("[\"a\",]", "trailing comma at line 1 column 6")]
    [InlineData("[\"a\" \"b\"]", "expected `,` or `]` at line 1 column 6")]
    [InlineData("[\"a\"", "EOF while parsing a list at line 1 column 4")]
    [InlineData("[\"a", "EOF while parsing a string at line 1 column 3")]
    [InlineData("[\"a\"] x", "trailing characters at line 1 column 7")]
    [InlineData("[\n\"a\",\nnull]", "invalid type: null, expected a string at line 3 column 4")]
    [InlineData("[\"\\q\"]", "invalid escape at line 1 column 4")]
    public void ReportsWhatSerdeJsonReports(string body, string error)
    {
        Assert.False(SerdeStringArray.TryParse(body, out _, out var message));
        Assert.Equal(error, message);
    }
}
