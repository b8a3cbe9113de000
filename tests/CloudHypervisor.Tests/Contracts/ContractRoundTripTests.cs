using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// Request bodies as upstream clients send them are accepted, and the contract types write
/// JSON byte-for-byte like upstream's serde (field order, defaults, omitted and null fields).
/// Expected outputs are the golden files test_data/api/*.expected.json.
/// </summary>
public sealed class ContractRoundTripTests
{
    private static readonly ContractsJsonContext Json = ContractsJsonContext.Default;

    public static TheoryData<string> Cases() =>
    [
        "add-disk", "add-fs", "add-net", "add-vsock", "vm-create", "vm-create-empty", "resize", "resize-disk",
        "resize-zone", "remove-device", "snapshot", "restore", "receive-migration", "send-migration", "ping",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Request_round_trips_to_the_golden_json(string caseName)
    {
        var written = caseName switch
        {
            "add-disk" => Written(caseName, Json.DiskConfig),
            "add-fs" => Written(caseName, Json.FsConfig),
            "add-net" => Written(caseName, Json.NetConfig),
            "add-vsock" => Written(caseName, Json.VsockConfig),
            "vm-create" or "vm-create-empty" => Written(caseName, Json.VmConfig),
            "resize" => Written(caseName, Json.VmResize),
            "resize-disk" => Written(caseName, Json.VmResizeDisk),
            "resize-zone" => Written(caseName, Json.VmResizeZone),
            "remove-device" => Written(caseName, Json.VmRemoveDevice),
            "snapshot" => Written(caseName, Json.VmSnapshotConfig),
            "restore" => Written(caseName, Json.RestoreConfig),
            "receive-migration" => Written(caseName, Json.ReceiveMigrationData),
            "send-migration" => Written(caseName, Json.SendMigrationData),
            "ping" => Written(caseName, Json.VmmPingResponse),
            _ => throw new ArgumentOutOfRangeException(nameof(caseName), caseName, "no contract type for this case"),
        };

        Assert.Equal(GoldenJson.Read(caseName + ".expected.json"), written);
    }

    [Fact]
    public void Minimal_disk_built_in_code_serializes_like_ch_remote_add_disk()
    {
        var disk = new DiskConfig { Path = "/a.img" };

        Assert.Equal(GoldenJson.Read("add-disk.expected.json"), JsonSerializer.Serialize(disk, Json.DiskConfig));
    }

    [Fact]
    public void Vm_info_of_a_running_vm_matches_golden_and_omits_the_absent_device_tree()
    {
        var (config, _) = GoldenJson.RoundTrip("vm-create", Json.VmConfig);
        var info = new VmInfo { Config = config, State = VmState.Running, MemoryActualSize = 1UL << 30 };

        var written = JsonSerializer.Serialize(info, Json.VmInfo);

        Assert.Equal(GoldenJson.Read("vm-info.expected.json"), written);
        Assert.DoesNotContain("device_tree", written);
    }

    [Fact]
    public void Vm_create_request_values_land_in_the_typed_config()
    {
        var (config, _) = GoldenJson.RoundTrip("vm-create", Json.VmConfig);

        Assert.Equal(1u, config.Cpus.BootVcpus);
        Assert.Equal(46, config.Cpus.MaxPhysBits);
        Assert.Equal(1UL << 30, config.Memory.Size);
        Assert.Equal("/opt/vmlinux", config.Payload!.Kernel);
        Assert.Equal("/opt/focal.raw", Assert.Single(config.Disks!).Path);
        Assert.Equal(ConsoleMode.Tty, config.Serial.Mode);
        Assert.Equal(ConsoleMode.Off, config.Console.Mode);
        Assert.Equal(ImageType.Unknown, config.Disks![0].ImageType);
    }

    [Fact]
    public void Device_tree_is_written_once_the_vm_is_booted()
    {
        var node = new DeviceNode
        {
            Id = "_disk0",
            Resources = [new() { ["PciBar"] = new System.Text.Json.Nodes.JsonObject { ["index"] = 0, ["size"] = 524288 } }],
            Children = [],
            PciBdf = "0000:00:05.0",
        };
        var info = new VmInfo
        {
            Config = new VmConfig(),
            State = VmState.Paused,
            DeviceTree = new() { ["_disk0"] = node },
        };

        var written = JsonSerializer.Serialize(info, Json.VmInfo);

        Assert.EndsWith(
            "\"state\":\"Paused\",\"memory_actual_size\":0,\"device_tree\":{\"_disk0\":{\"id\":\"_disk0\"," +
            "\"resources\":[{\"PciBar\":{\"index\":0,\"size\":524288}}],\"children\":[],\"pci_bdf\":\"0000:00:05.0\"}}}",
            written);
    }

    [Fact]
    public void Fd_numbers_in_json_become_placeholders()
    {
        var net = JsonSerializer.Deserialize("""{"fds":[7,8,9]}""", Json.NetConfig)!;
        var device = JsonSerializer.Deserialize("""{"path":"/sys/bus/pci/devices/0000:01:00.0","fd":12}""", Json.DeviceConfig)!;

        Assert.Equal([-1, -1, -1], net.Fds);
        Assert.Equal(-1, device.Fd);
    }

    [Fact]
    public void Deprecated_platform_spellings_are_read_into_the_current_fields_and_not_written()
    {
        var platform = JsonSerializer.Deserialize("""{"serial_number":"SN1","uuid":"U1"}""", Json.PlatformConfig)!;

        Assert.Equal("SN1", platform.SystemSerialNumber);
        Assert.Equal("U1", platform.SystemUuid);
        Assert.Equal(
            """{"num_pci_segments":1,"iommu_address_width_bits":64,"system_serial_number":"SN1","system_uuid":"U1","iommufd":false,"vfio_p2p_dma":true}""",
            JsonSerializer.Serialize(platform, Json.PlatformConfig));
    }

    [Fact]
    public void Unknown_fields_are_ignored_except_directly_inside_a_rate_limiter()
    {
        var disk = JsonSerializer.Deserialize("""{"path":"/a.img","no_such_field":1}""", Json.DiskConfig)!;
        Assert.Equal("/a.img", disk.Path);

        // serde's deny_unknown_fields is on RateLimiterConfig only, not on its TokenBucketConfig members.
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(
            """{"path":"/a.img","rate_limiter_config":{"bandwidth":{"size":1,"refill_time":1},"extra":2}}""", Json.DiskConfig));
        Assert.Contains("extra", error.Message);

        var limited = JsonSerializer.Deserialize(
            """{"path":"/a.img","rate_limiter_config":{"bandwidth":{"size":1,"refill_time":1,"extra":2}}}""", Json.DiskConfig)!;
        Assert.Equal(1UL, limited.RateLimiterConfig!.Bandwidth!.Size);
    }

    [Theory]
    [InlineData("""{}""", "destination_url")]
    [InlineData("""{"destination_url":null}""", "destination_url")]
    public void Missing_or_null_required_field_is_an_error_naming_it(string body, string field)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(body, Json.VmSnapshotConfig));

        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Missing_nested_required_field_is_an_error()
    {
        var error = Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize("""{"cpus":{"boot_vcpus":2},"payload":{"kernel":"/k"}}""", Json.VmConfig));

        Assert.Contains("max_vcpus", error.Message);
    }

    [Theory]
    [InlineData("""{"cpus":{"boot_vcpus":"two","max_vcpus":2}}""")]
    [InlineData("""{"cpus":{"boot_vcpus":-1,"max_vcpus":2}}""")]
    [InlineData("""{"memory":{"size":1.5}}""")]
    [InlineData("""{"iommu":"yes"}""")]
    [InlineData("""{"rng":{"src":null}}""")]
    [InlineData("""{"disks":{"path":"/a.img"}}""")]
    public void Wrong_type_is_an_error(string body)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(body, Json.VmConfig));
    }

    [Fact]
    public void Enum_spellings_are_exact_and_case_sensitive()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"mode":"tty"}""", Json.ConsoleConfig));
        Assert.StartsWith("unknown variant `tty`, expected one of `Off`, `Pty`, `Tty`, `File`, `Socket`, `Null`", error.Message);

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"mode":2}""", Json.ConsoleConfig));
        Assert.Equal(HotplugMethod.VirtioMem, JsonSerializer.Deserialize("""{"size":1,"hotplug_method":"VirtioMem"}""", Json.MemoryConfig)!.HotplugMethod);
    }

    [Fact]
    public void Enum_wire_names_match_upstream()
    {
        Assert.Equal("VirtioMem", HotplugMethod.VirtioMem.ToWire());
        Assert.Equal("BreakPoint", VmState.BreakPoint.ToWire());
        Assert.Equal("FlatVmdk", ImageType.FlatVmdk.ToWire());
        Assert.Equal("ByteRange", LockGranularity.ByteRange.ToWire());
        Assert.Equal("OnDemand", MemoryRestoreMode.OnDemand.ToWire());
        Assert.True(ConsoleModeWire.TryParse("Null", out var mode));
        Assert.Equal(ConsoleMode.Null, mode);
        Assert.False(ConsoleModeWire.TryParse("null", out _));
    }

    [Fact]
    public void Error_bodies_serialize_as_compact_string_arrays()
    {
        string[] chain = ["Error from API", "The VM info is not available", "VM is not created"];

        Assert.Equal("""["Error from API","The VM info is not available","VM is not created"]""",
            JsonSerializer.Serialize(chain, Json.StringArray));
        Assert.Equal(chain, JsonSerializer.Deserialize("""["Error from API","The VM info is not available","VM is not created"]""", Json.ListString));
    }

    [Fact]
    public void Every_document_operation_is_described()
    {
        Assert.Equal(31, ApiOperations.All.Count);
        Assert.Equal(typeof(VmConfig), ApiOperations.VmCreate.RequestBody);
        Assert.Equal("PUT", ApiOperations.VmCreate.Method);
        Assert.Equal("GET", ApiOperations.VmmPing.Method);
        Assert.Null(ApiOperations.VmBoot.RequestBody);
        Assert.Contains(429, ApiOperations.VmResize.DocumentedStatusCodes);
    }

    private static string Written<T>(string caseName, JsonTypeInfo<T> typeInfo) => GoldenJson.RoundTrip(caseName, typeInfo).Written;
}
