using System.Buffers.Binary;

namespace CloudHypervisor.Arch.Acpi;

/// <summary>Builds a _CRS resource template buffer (ACPI 6.4 §6.4 descriptors), end tag included.</summary>
public sealed class ResourceTemplate
{
    private readonly List<byte> bytes = [];

    public ResourceTemplate Io(ushort min, ushort max, byte alignment, byte length)
    {
        Span<byte> d = stackalloc byte[8];
        d[0] = 0x47;
        d[1] = 1; // 16-bit decode
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], min);
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], max);
        d[6] = alignment;
        d[7] = length;
        bytes.AddRange(d);
        return this;
    }

    public ResourceTemplate Memory32Fixed(uint address, uint length, bool writable = true)
    {
        Span<byte> d = stackalloc byte[12];
        d[0] = 0x86;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 9);
        d[3] = writable ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        bytes.AddRange(d);
        return this;
    }

    /// <summary>Extended interrupt: consumer, edge-triggered, active-high, exclusive.</summary>
    public ResourceTemplate Interrupt(uint irq)
    {
        Span<byte> d = stackalloc byte[9];
        d[0] = 0x89;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 6);
        d[3] = 0x03;
        d[4] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(d[5..], irq);
        bytes.AddRange(d);
        return this;
    }

    public ResourceTemplate WordBusNumber(ushort min, ushort max) => WordAddress(2, 0, min, max);

    /// <summary>A word I/O range; unlike the short IO descriptor it can span more than 255 ports.</summary>
    public ResourceTemplate WordIo(ushort min, ushort max) => WordAddress(1, 3, min, max);

    private ResourceTemplate WordAddress(byte resourceType, byte typeFlags, ushort min, ushort max)
    {
        Span<byte> d = stackalloc byte[16];
        d.Clear();
        d[0] = 0x88;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 13);
        d[3] = resourceType;
        d[4] = 0x0C; // min and max fixed
        d[5] = typeFlags;
        BinaryPrimitives.WriteUInt16LittleEndian(d[8..], min);
        BinaryPrimitives.WriteUInt16LittleEndian(d[10..], max);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)(max - min + 1));
        bytes.AddRange(d);
        return this;
    }

    public ResourceTemplate DWordMemory(uint min, uint max, bool cacheable = true)
    {
        Span<byte> d = stackalloc byte[26];
        d.Clear();
        d[0] = 0x87;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 23);
        d[3] = 0; // memory range
        d[4] = 0x0C;
        d[5] = (byte)((cacheable ? 1 : 0) << 1 | 1); // read-write
        BinaryPrimitives.WriteUInt32LittleEndian(d[10..], min);
        BinaryPrimitives.WriteUInt32LittleEndian(d[14..], max);
        BinaryPrimitives.WriteUInt32LittleEndian(d[22..], max - min + 1);
        bytes.AddRange(d);
        return this;
    }

    public ResourceTemplate QWordMemory(ulong min, ulong max, bool cacheable = true)
    {
        Span<byte> d = stackalloc byte[46];
        d.Clear();
        d[0] = 0x8A;
        BinaryPrimitives.WriteUInt16LittleEndian(d[1..], 43);
        d[3] = 0;
        d[4] = 0x0C;
        d[5] = (byte)((cacheable ? 1 : 0) << 1 | 1);
        BinaryPrimitives.WriteUInt64LittleEndian(d[14..], min);
        BinaryPrimitives.WriteUInt64LittleEndian(d[22..], max);
        BinaryPrimitives.WriteUInt64LittleEndian(d[38..], max - min + 1);
        bytes.AddRange(d);
        return this;
    }

    public byte[] ToArray()
    {
        var result = new byte[bytes.Count + 2];
        bytes.CopyTo(result);
        result[^2] = 0x79; // end tag; checksum 0 means "not checked"
        return result;
    }
}
