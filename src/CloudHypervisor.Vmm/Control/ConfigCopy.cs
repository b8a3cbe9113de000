using System.Text.Json;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Deep copies of a configuration, so a rejected change never touches the stored one.</summary>
internal static class ConfigCopy
{
    public static VmConfig Of(VmConfig config) =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(config, ContractsJsonContext.Default.VmConfig), ContractsJsonContext.Default.VmConfig)!;
}
