using System.Text.Json;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Deep copies of a configuration, so a rejected change never touches the stored one.</summary>
internal static class ConfigCopy
{
    public static VmConfig Of(VmConfig config)
    {
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(config, ContractsJsonContext.Default.VmConfig), ContractsJsonContext.Default.VmConfig)!;

        // The JSON form shows TAP descriptors as -1, as upstream's does; the copy keeps the real ones.
        if (config.Net is { } nets && copy.Net is { } copies)
        {
            for (var i = 0; i < nets.Count && i < copies.Count; i++)
            {
                copies[i].Fds = nets[i].Fds is { } fds ? [.. fds] : null;
            }
        }

        return copy;
    }
}
