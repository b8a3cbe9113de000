using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>Image formats recognised by their magic, as upstream's autodetection does.</summary>
public enum DiskImageFormat
{
    Raw,
    Qcow2,
    Vhdx,
    FixedVhd,
}

public static class DiskImageFormats
{
    private const uint QcowMagic = 0x5146_49FB;
    private const ulong VhdxMagic = 0x656C_6966_7864_6876; // "vhdxfile" little-endian
    private const ulong VhdFooterCookie = 0x7869_7463_656E_6F63; // "conectix" little-endian

    /// <summary>Identifies an image from its first bytes and its last 512 (the VHD footer).</summary>
    public static DiskImageFormat Detect(ReadOnlySpan<byte> head, ReadOnlySpan<byte> lastSector)
    {
        if (head.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(head) == QcowMagic)
        {
            return DiskImageFormat.Qcow2;
        }

        if (head.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(head) == VhdxMagic)
        {
            return DiskImageFormat.Vhdx;
        }

        if (lastSector.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(lastSector) == VhdFooterCookie)
        {
            return DiskImageFormat.FixedVhd;
        }

        return DiskImageFormat.Raw;
    }
}
