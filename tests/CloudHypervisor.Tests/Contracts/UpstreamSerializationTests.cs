using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// The contract types write configuration JSON exactly as upstream Cloud Hypervisor v54 does
/// with serde_json: struct declaration order, flattened PCI fields where the flatten sits, every
/// field written except those serde skips. Golden files: test_data/api/serialization/*.json,
/// derived by hand from upstream's struct definitions (sources named on each test).
/// </summary>
public sealed partial class UpstreamSerializationTests
{
    private static readonly ContractsJsonContext Json = ContractsJsonContext.Default;

    /// <summary>
    /// Derived from upstream's Default impls and serde defaults: VmConfig is
    /// skip_serializing_none (absent payload, device lists, balloon, vsock, numa, rtc, platform,
    /// tpm... are left out); CpusConfig::default (DEFAULT_VCPUS 1, DEFAULT_MAX_PHYS_BITS 46,
    /// nested true, CoreScheduling::Vm, CpuProfile::Host, CpuFeatures amx false);
    /// MemoryConfig::default (DEFAULT_MEMORY_MB 512 &lt;&lt; 20, HotplugMethod::Acpi, thp true);
    /// RngConfig::default (DEFAULT_RNG_SOURCE /dev/urandom, PciDeviceCommonConfig::default);
    /// SerialConfig::default (mode Null) and ConsoleConfig::default (mode Tty), both with
    /// CommonConsoleConfig skip_serializing_none; DebugConsoleConfig::default (mode Off,
    /// iobase debug_console::DEFAULT_PORT 0xe9 = 233); bools pvpanic, iommu, watchdog,
    /// landlock_enable false. Also api.md §5 "Omitted top-level VmConfig members get defaults".
    /// </summary>
    [Fact]
    public void Default_vm_config_is_written_like_upstream()
    {
        var golden = Golden("vm-config-default.json");

        Assert.Equal(golden, JsonSerializer.Serialize(new VmConfig(), Json.VmConfig));
        Assert.Equal(golden, JsonSerializer.Serialize(JsonSerializer.Deserialize("{}", Json.VmConfig)!, Json.VmConfig));
    }

    /// <summary>
    /// ch-remote.md §3: <c>add-disk path=/a.img</c> sends exactly this body. DiskConfig is
    /// skip_serializing_none with PciDeviceCommonConfig flattened first (id and pci_device_id left
    /// out when None, iommu only when true, pci_segment always).
    /// </summary>
    [Fact]
    public void Disk_with_only_a_path_matches_ch_remote_add_disk_byte_for_byte()
    {
        const string ChRemoteReference =
            """{"pci_segment":0,"path":"/a.img","readonly":false,"direct":false,"num_queues":1,"queue_size":128,"vhost_user":false,"disable_io_uring":false,"disable_aio":false,"backing_files":false,"sparse":true,"image_type":"Unknown","lock_granularity":"ByteRange"}""";

        Assert.Equal(ChRemoteReference, Golden("disk-path-only.json"));
        Assert.Equal(ChRemoteReference, JsonSerializer.Serialize(new DiskConfig { Path = "/a.img" }, Json.DiskConfig));
        Assert.Equal(ChRemoteReference, RoundTrip("""{"path":"/a.img"}""", Json.DiskConfig));
    }

    /// <summary>
    /// NetConfig (skip_serializing_none, PCI fields flattened first): ip/mask/host_mac/mtu/
    /// vhost_socket/fds/rate_limiter_config are Options left out when None; mac is a plain
    /// MacAddr and so always written; TokenBucketConfig and RateLimiterConfig have no skip, so
    /// their absent members are written as null.
    /// </summary>
    [Theory]
    [InlineData("net-config-full.json")]
    [InlineData("net-config-tap.json")]
    public void Net_config_round_trips_byte_for_byte(string golden)
    {
        Assert.Equal(Golden(golden), RoundTrip(Golden(golden), Json.NetConfig));
    }

    /// <summary>upstream's serde default for NetConfig.mac is MacAddr::local_random(): 0x2e then five random bytes.</summary>
    [Fact]
    public void Net_config_without_mac_gets_a_random_local_mac_written_after_the_tap()
    {
        var first = RoundTrip("""{"tap":"tap0"}""", Json.NetConfig);
        var second = RoundTrip("""{"tap":"tap0"}""", Json.NetConfig);

        Assert.Matches(LocalMac(), first);
        Assert.Equal(
            """{"pci_segment":0,"tap":"tap0","mac":"<mac>","num_queues":2,"queue_size":256,"vhost_user":false,"vhost_mode":"Client","offload_tso":true,"offload_ufo":true,"offload_csum":true}""",
            LocalMac().Replace(first, "\"mac\":\"<mac>\""));
        Assert.NotEqual(first, second);
    }

    /// <summary>Every field of every VmConfig struct, non-default, in upstream order; FDs read back as -1.</summary>
    [Fact]
    public void Fully_populated_vm_config_round_trips_byte_for_byte()
    {
        var golden = Golden("vm-config-full.json");

        Assert.Equal(golden, RoundTrip(golden, Json.VmConfig));
    }

    /// <summary>
    /// Guards the full golden itself: each property of each contract type reachable from
    /// VmConfig appears in it at least once, so a field added to the YAML cannot go untested.
    /// </summary>
    [Fact]
    public void Fully_populated_vm_config_golden_covers_every_written_property()
    {
        using var document = JsonDocument.Parse(Golden("vm-config-full.json"));
        var seen = new Dictionary<Type, HashSet<string>>();
        Walk(document.RootElement, Json.VmConfig, seen);

        var missing = seen
            .SelectMany(entry => Json.GetTypeInfo(entry.Key)!.Properties
                .Where(p => p.Get is not null && !InputOnlyAliases.Contains(p.Name) && !entry.Value.Contains(p.Name))
                .Select(p => $"{entry.Key.Name}.{p.Name}"))
            .ToList();
        Assert.True(missing.Count == 0, "vm-config-full.json lacks: " + string.Join(", ", missing));

        // Only the fields of cargo features absent from the default build are never written.
        var neverWritten = seen.Keys.SelectMany(type => Json.GetTypeInfo(type)!.Properties)
            .Where(p => p.Get is null).Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["host_data", "igvm", "sev_snp", "tdx"], neverWritten);
        Assert.True(seen.Count >= 30, $"only {seen.Count} object types were reached");
    }

    /// <summary>RestoreConfig has no skip attributes: every Option is written, null when None.</summary>
    [Fact]
    public void Fully_populated_restore_config_round_trips_byte_for_byte()
    {
        var golden = Golden("restore-full.json");

        Assert.Equal(golden, RoundTrip(golden, Json.RestoreConfig));
    }

    /// <summary>
    /// tdx, sev_snp (PlatformConfig), igvm and host_data (PayloadConfig) exist upstream only with
    /// cargo features the default build lacks: there they are unknown fields, ignored on input.
    /// </summary>
    [Fact]
    public void Fields_of_features_absent_from_the_default_build_are_neither_read_nor_written()
    {
        var platform = RoundTrip("""{"tdx":true,"sev_snp":true}""", Json.PlatformConfig);
        var payload = RoundTrip("""{"kernel":"/k","igvm":"/i","host_data":"00"}""", Json.PayloadConfig);

        Assert.Equal("""{"num_pci_segments":1,"iommu_address_width_bits":64,"iommufd":false,"vfio_p2p_dma":true}""", platform);
        Assert.Equal("""{"kernel":"/k"}""", payload);
    }

    /// <summary>RateLimiterGroupConfig and NumaDistance give every field a serde default.</summary>
    [Fact]
    public void Rate_limit_group_and_numa_distance_fields_default_like_serde()
    {
        Assert.Equal("""{"id":"","rate_limiter_config":{"bandwidth":null,"ops":null}}""", RoundTrip("{}", Json.RateLimitGroupConfig));
        Assert.Equal("""{"destination":0,"distance":0}""", RoundTrip("{}", Json.NumaDistance));
    }

    /// <summary>The PlatformConfig aliases serial_number and uuid are read into their targets and never written.</summary>
    private static readonly HashSet<string> InputOnlyAliases = ["serial_number", "uuid"];

    private static void Walk(JsonElement element, JsonTypeInfo typeInfo, Dictionary<Type, HashSet<string>> seen)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        switch (typeInfo.Kind)
        {
            case JsonTypeInfoKind.Object:
                if (!seen.TryGetValue(typeInfo.Type, out var names))
                {
                    seen[typeInfo.Type] = names = [];
                }

                foreach (var property in typeInfo.Properties)
                {
                    if (element.TryGetProperty(property.Name, out var value))
                    {
                        names.Add(property.Name);
                        Walk(value, Json.GetTypeInfo(property.PropertyType)!, seen);
                    }
                }

                break;
            case JsonTypeInfoKind.Enumerable:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, Json.GetTypeInfo(typeInfo.ElementType!)!, seen);
                }

                break;
        }
    }

    private static string RoundTrip<T>(string json, JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Serialize(JsonSerializer.Deserialize(json, typeInfo)!, typeInfo);

    private static string Golden(string name) =>
        File.ReadAllText(ContractsTestLayout.TestData(Path.Combine("serialization", name))).TrimEnd('\n', '\r');

    [GeneratedRegex("\"mac\":\"2e(:[0-9a-f]{2}){5}\"")]
    private static partial Regex LocalMac();
}
