using System.Text;
using CloudHypervisor.Contracts;
using CloudHypervisor.Contracts.Json;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>Request-body errors are reported in serde_json's words, as upstream's API does.</summary>
public sealed class ContractJsonErrorTests
{
    private static readonly ContractsJsonContext Json = ContractsJsonContext.Default;

    [Fact]
    public void Missing_field_is_reported_like_upstream()
    {
        // Upstream answers vm.restore with {} by ["Failed to deserialize JSON","missing field `source_url` at line 1 column 2"].
        var error = Assert.Throws<ContractJsonException>(() => ContractJson.Deserialize("{}"u8, Json.RestoreConfig));

        Assert.Equal("missing field `source_url` at line 1 column 2", error.Message);
        Assert.Equal(["missing field `source_url` at line 1 column 2"], error.Chain());
    }

    [Fact]
    public void Missing_nested_field_reports_the_position_of_its_object_end()
    {
        var body = Encoding.UTF8.GetBytes("{\n \"cpus\":{\"boot_vcpus\":2}}");

        var error = Assert.Throws<ContractJsonException>(() => ContractJson.Deserialize(body, Json.VmConfig));

        Assert.Equal("missing field `max_vcpus` at line 2 column 24", error.Message);
    }

    [Fact]
    public void Unknown_enum_variant_keeps_serde_wording_and_gains_a_position()
    {
        var error = Assert.Throws<ContractJsonException>(() =>
            ContractJson.Deserialize("""{"console":{"mode":"tty"}}"""u8, Json.VmConfig));

        Assert.Equal("unknown variant `tty`, expected one of `Off`, `Pty`, `Tty`, `File`, `Socket`, `Null` at line 1 column 24", error.Message);
    }

    [Fact]
    public void Unknown_rate_limiter_field_is_named()
    {
        var error = Assert.Throws<ContractJsonException>(() =>
            ContractJson.Deserialize("""{"path":"/a","rate_limiter_config":{"bw":1}}"""u8, Json.DiskConfig));

        Assert.StartsWith("unknown field `bw`", error.Message);
    }

    [Fact]
    public void Null_body_and_wrong_types_are_errors()
    {
        Assert.Throws<ContractJsonException>(() => ContractJson.Deserialize("null"u8, Json.VmResize));
        Assert.Throws<ContractJsonException>(() => ContractJson.Deserialize("""{"desired_vcpus":"2"}"""u8, Json.VmResize));
        Assert.Throws<ContractJsonException>(() => ContractJson.Deserialize("""{"desired_ram":"#;"""u8, Json.VmResize));
    }

    [Fact]
    public void Valid_body_is_returned()
    {
        var resize = ContractJson.Deserialize("""{"desired_vcpus":2,"desired_ram":null,"desired_balloon":null}"""u8, Json.VmResize);

        Assert.Equal(2u, resize.DesiredVcpus);
        Assert.Null(resize.DesiredRam);
    }
}
