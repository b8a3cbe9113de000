namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>virtio-blk feature bits (VIRTIO 1.2 §5.2.3), as masks.</summary>
public static class BlockFeatures
{
    public const ulong SegMax = 1UL << 2;
    public const ulong ReadOnly = 1UL << 5;
    public const ulong BlkSize = 1UL << 6;
    public const ulong Flush = 1UL << 9;
    public const ulong Topology = 1UL << 10;
    public const ulong ConfigWce = 1UL << 11;
    public const ulong MultiQueue = 1UL << 12;
    public const ulong Discard = 1UL << 13;
    public const ulong WriteZeroes = 1UL << 14;
}

/// <summary>The request header's type field (VIRTIO 1.2 §5.2.6).</summary>
public enum BlockRequestType : uint
{
    In = 0,
    Out = 1,
    Flush = 4,
    GetId = 8,
    Discard = 11,
    WriteZeroes = 13,
}

/// <summary>The status byte the device writes last.</summary>
public static class BlockStatus
{
    public const byte Ok = 0;
    public const byte IoError = 1;
    public const byte Unsupported = 2;
}
