using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Tests.Contracts;

/// <summary>
/// The generated DeepCopy methods copy every property (the JSON-ignored ones and file descriptors too) and share
/// no list, map or object with the original, so a copy can be changed and thrown away without touching it.
/// </summary>
public sealed class ContractDeepCopyTests
{
    private static readonly ContractsJsonContext Json = ContractsJsonContext.Default;

    [Fact]
    public void Fully_populated_vm_config_copy_writes_the_same_json_and_shares_nothing()
    {
        var original = FullConfig();

        var copy = original.DeepCopy();

        Assert.Equal(JsonSerializer.Serialize(original, Json.VmConfig), JsonSerializer.Serialize(copy, Json.VmConfig));
        var compared = AssertEqualButUnshared(original, copy, "VmConfig");
        Assert.True(compared > 200, $"only {compared} values were compared");
    }

    [Fact]
    public void File_descriptors_and_build_ignored_fields_are_copied_though_json_leaves_them_out()
    {
        var original = FullConfig();
        original.Net![0].Fds = [7, 8];
        original.Payload = new PayloadConfig { Kernel = "/k", Igvm = "/igvm", HostData = "00" };

        var copy = original.DeepCopy();

        Assert.Equal([7, 8], copy.Net![0].Fds!);
        Assert.NotSame(original.Net[0].Fds, copy.Net[0].Fds);
        Assert.Equal("/igvm", copy.Payload!.Igvm);
        Assert.Equal("00", copy.Payload.HostData);
    }

    [Fact]
    public void Changing_the_copy_leaves_the_original_as_it_was()
    {
        var original = FullConfig();
        var before = JsonSerializer.Serialize(original, Json.VmConfig);

        var copy = original.DeepCopy();
        copy.Disks![0].Path = "/elsewhere";
        copy.Disks.Clear();
        copy.Cpus.BootVcpus = 99;
        copy.Platform!.OemStrings!.Add("x");

        Assert.Equal(before, JsonSerializer.Serialize(original, Json.VmConfig));
    }

    [Fact]
    public void Vm_info_copy_includes_the_device_tree_and_its_free_form_resources()
    {
        var (config, _) = GoldenJson.RoundTrip("vm-create", Json.VmConfig);
        var info = new VmInfo
        {
            Config = config,
            State = VmState.Running,
            DeviceTree = new Dictionary<string, DeviceNode>
            {
                ["_disk0"] = new DeviceNode { Id = "_disk0", Resources = [new JsonObject { ["PciBar"] = new JsonObject { ["index"] = 0 } }], Children = ["a"] },
            },
        };

        var copy = info.DeepCopy();

        Assert.Equal(JsonSerializer.Serialize(info, Json.VmInfo), JsonSerializer.Serialize(copy, Json.VmInfo));
        AssertEqualButUnshared(info, copy, "VmInfo");
    }

    private static VmConfig FullConfig() =>
        JsonSerializer.Deserialize(File.ReadAllText(ContractsTestLayout.TestData("serialization/vm-config-full.json")), Json.VmConfig)!;

    /// <summary>Walks both graphs in step: equal leaves, never the same list, map or object. Returns the leaves compared.</summary>
    private static int AssertEqualButUnshared(object? original, object? copy, string path)
    {
        if (original is null || copy is null)
        {
            Assert.True(original is null && copy is null, $"{path}: only one side is null");
            return 1;
        }

        var type = original.GetType();
        Assert.Equal(type, copy.GetType());
        if (type.IsValueType || original is string)
        {
            Assert.True(Equals(original, copy), $"{path}: {original} != {copy}");
            return 1;
        }

        Assert.False(ReferenceEquals(original, copy), $"{path} is shared");
        switch (original)
        {
            case JsonNode node:
                Assert.Equal(node.ToJsonString(), ((JsonNode)copy).ToJsonString());
                return 1;
            case IDictionary map:
                var copiedMap = (IDictionary)copy;
                Assert.Equal(map.Count, copiedMap.Count);
                var leaves = 0;
                foreach (DictionaryEntry entry in map)
                {
                    leaves += AssertEqualButUnshared(entry.Value, copiedMap[entry.Key], $"{path}[{entry.Key}]");
                }

                return leaves;
            case IList list:
                var copiedList = (IList)copy;
                Assert.Equal(list.Count, copiedList.Count);
                var items = 0;
                for (var i = 0; i < list.Count; i++)
                {
                    items += AssertEqualButUnshared(list[i], copiedList[i], $"{path}[{i}]");
                }

                return items;
        }

        var compared = 0;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.CanRead)
            {
                compared += AssertEqualButUnshared(property.GetValue(original), property.GetValue(copy), $"{path}.{property.Name}");
            }
        }

        return compared;
    }
}
