namespace CloudHypervisor.Devices.Virtio;

/// <summary>One split-ring descriptor (VIRTIO 1.2 §2.7.5): a guest buffer and how the chain continues.</summary>
public readonly record struct VirtqDescriptor(ulong Address, uint Length, ushort Flags, ushort Next)
{
    public const int Size = 16;
    public const ushort FlagNext = 1;
    public const ushort FlagWrite = 2;
    public const ushort FlagIndirect = 4;

    public bool HasNext => (Flags & FlagNext) != 0;

    /// <summary>The device writes this buffer (the driver reads it back).</summary>
    public bool IsWriteOnly => (Flags & FlagWrite) != 0;

    public bool IsIndirect => (Flags & FlagIndirect) != 0;
}
