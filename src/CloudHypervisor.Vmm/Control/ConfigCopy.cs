using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Deep copies of a configuration, so a rejected change never touches the stored one.</summary>
internal static class ConfigCopy
{
    // The generated copy, not a JSON round trip: that kept the TAP descriptors only by patching them back (JSON shows
    // them as -1) and, as the first serialization of the process, built the whole VmConfig metadata on the boot path.
    public static VmConfig Of(VmConfig config) => config.DeepCopy();
}
