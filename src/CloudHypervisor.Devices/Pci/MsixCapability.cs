using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// The MSI-X capability body: Message Control (table size − 1, Function Mask, Enable), then the
/// table's and the PBA's BAR indicator (low 3 bits) and offset within that BAR.
/// </summary>
public readonly record struct MsixCapability(ushort VectorCount, byte TableBar, uint TableOffset, byte PbaBar, uint PbaOffset)
{
    /// <summary>Bytes after the capability id and next pointer.</summary>
    public const int BodyLength = 10;

    public const ushort FunctionMaskBit = 1 << 14;
    public const ushort EnableBit = 1 << 15;

    /// <summary>Upstream's limit on vectors per device.</summary>
    public const int MaxVectors = 2048;

    public void Write(Span<byte> body)
    {
        if (VectorCount is 0 or > MaxVectors)
        {
            throw new PciException($"MSI-X vector count {VectorCount} out of range 1-{MaxVectors}");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)(VectorCount - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(body[2..], (TableOffset & ~7u) | (TableBar & 7u));
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (PbaOffset & ~7u) | (PbaBar & 7u));
    }

    /// <summary>Bytes of the vector table (16 per vector).</summary>
    public static ulong TableSize(int vectors) => (ulong)vectors * MsixTable.EntrySize;

    /// <summary>Bytes of the pending-bit array (one 64-bit word per 64 vectors, as upstream sizes it).</summary>
    public static ulong PbaSize(int vectors) => ((ulong)vectors / 64 + 1) * 8;
}
