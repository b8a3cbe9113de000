using System.Buffers.Binary;
using System.Text;

namespace CloudHypervisor.Arch.Acpi;

/// <summary>An ACPI system description table: the 36-byte header, a body, and a checksum over both.</summary>
public sealed class Sdt
{
    public const string OemId = "CLOUDH";
    public const string CreatorId = "RVAT";
    public const uint CreatorRevision = 0x0100_0000;
    private readonly List<byte> bytes = new(256);

    public Sdt(string signature, byte revision, string oemTableId, uint oemRevision = 1)
    {
        Span<byte> header = stackalloc byte[36];
        header.Clear();
        Ascii(signature, 4).CopyTo(header);
        header[8] = revision;
        Ascii(OemId, 6).CopyTo(header[10..]);
        Ascii(oemTableId, 8).CopyTo(header[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], oemRevision);
        Ascii(CreatorId, 4).CopyTo(header[28..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], CreatorRevision);
        bytes.AddRange(header);
    }

    public int Length => bytes.Count;

    public Sdt Append(ReadOnlySpan<byte> data)
    {
        bytes.AddRange(data);
        return this;
    }

    public Sdt AppendU8(byte value) => Append([value]);

    public Sdt AppendU16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return Append(b);
    }

    public Sdt AppendU32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Append(b);
    }

    public Sdt AppendU64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Append(b);
    }

    /// <summary>Grows the body with zeros up to <paramref name="length"/> bytes in total.</summary>
    public Sdt PadTo(int length)
    {
        while (bytes.Count < length)
        {
            bytes.Add(0);
        }

        return this;
    }

    /// <summary>Overwrites bytes at a fixed table offset (for fields in fixed-layout tables like the FADT).</summary>
    public Sdt WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            bytes[offset + i] = data[i];
        }

        return this;
    }

    public Sdt WriteU32At(int offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return WriteAt(offset, b);
    }

    public Sdt WriteU64At(int offset, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return WriteAt(offset, b);
    }

    /// <summary>The finished table with its length and checksum filled in.</summary>
    public byte[] ToArray()
    {
        var table = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4), (uint)table.Length);
        table[9] = 0;
        table[9] = Checksum(table);
        return table;
    }

    /// <summary>The byte that makes the sum of <paramref name="data"/> zero.</summary>
    public static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (var b in data)
        {
            sum += b;
        }

        return (byte)(0 - sum);
    }

    internal static byte[] Ascii(string text, int width)
    {
        var result = new byte[width];
        Array.Fill(result, (byte)' ');
        Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, width)), result);
        return result;
    }
}
