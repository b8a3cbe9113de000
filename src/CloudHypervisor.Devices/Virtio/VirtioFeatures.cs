namespace CloudHypervisor.Devices.Virtio;

/// <summary>Device-independent feature bits (VIRTIO 1.2 §6), as masks.</summary>
public static class VirtioFeatures
{
    public const ulong RingIndirectDesc = 1UL << 28;
    public const ulong RingEventIdx = 1UL << 29;
    public const ulong Version1 = 1UL << 32;
    public const ulong AccessPlatform = 1UL << 33;
    public const ulong InOrder = 1UL << 35;

    public static bool Has(ulong features, ulong feature) => (features & feature) == feature;
}
