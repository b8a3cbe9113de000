using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// struct virtio_blk_config (VIRTIO 1.2 §5.2.4), 60 bytes as upstream lays it out. Only
/// <c>writeback</c> is driver-writable.
/// </summary>
public sealed class BlockConfigSpace
{
    public const int Size = 60;
    public const int WritebackOffset = 32;

    private readonly byte[] bytes = new byte[Size];

    public ulong Capacity
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        set => BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
    }

    public uint SegMax { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), value); }

    public uint BlkSize { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), value); }

    public byte PhysicalBlockExp { set => bytes[24] = value; }

    public ushort MinIoSize { set => BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(26), value); }

    public uint OptIoSize { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), value); }

    public byte Writeback
    {
        get => bytes[WritebackOffset];
        set => bytes[WritebackOffset] = value;
    }

    public ushort NumQueues { set => BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(34), value); }

    public uint MaxDiscardSectors { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(36), value); }

    public uint MaxDiscardSeg { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), value); }

    public uint DiscardSectorAlignment { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(44), value); }

    public uint MaxWriteZeroesSectors { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(48), value); }

    public uint MaxWriteZeroesSeg { set => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(52), value); }

    public byte WriteZeroesMayUnmap { set => bytes[56] = value; }

    /// <summary>Copies from <paramref name="offset"/>; bytes past the end read as zero.</summary>
    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset < Size)
        {
            var available = bytes.AsSpan((int)offset);
            available[..Math.Min(available.Length, data.Length)].CopyTo(data);
        }
    }
}
