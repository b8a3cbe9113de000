using System.Buffers.Binary;
using System.Text;

namespace CloudHypervisor.Arch.Smbios;

/// <summary>
/// One SMBIOS structure: the formatted area (type, length, handle, fields) followed by its string set,
/// where string fields hold 1-based indices into the set and 0 means "no string".
/// </summary>
internal sealed class SmbiosStructure
{
    private readonly byte[] formatted;
    private readonly List<string> strings = [];

    public SmbiosStructure(byte type, int length, ushort handle)
    {
        formatted = new byte[length];
        formatted[0] = type;
        formatted[1] = (byte)length;
        BinaryPrimitives.WriteUInt16LittleEndian(formatted.AsSpan(2), handle);
    }

    public SmbiosStructure Byte(int offset, byte value)
    {
        formatted[offset] = value;
        return this;
    }

    public SmbiosStructure U64(int offset, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(formatted.AsSpan(offset), value);
        return this;
    }

    public SmbiosStructure Bytes(int offset, ReadOnlySpan<byte> value)
    {
        value.CopyTo(formatted.AsSpan(offset));
        return this;
    }

    /// <summary>Appends <paramref name="value"/> to the string set and stores its index at <paramref name="offset"/>; a null value leaves the field 0.</summary>
    public SmbiosStructure StringField(int offset, string? value)
    {
        if (value is not null)
        {
            strings.Add(value);
            formatted[offset] = (byte)strings.Count;
        }

        return this;
    }

    /// <summary>Appends strings that no field refers to by index (type 11 counts them instead).</summary>
    public SmbiosStructure UnindexedStrings(IEnumerable<string> values)
    {
        strings.AddRange(values);
        return this;
    }

    /// <summary>Each string NUL-terminated, then one more NUL; a structure without strings ends in two NULs.</summary>
    public void AppendTo(List<byte> table)
    {
        table.AddRange(formatted);
        foreach (var value in strings)
        {
            table.AddRange(Encoding.UTF8.GetBytes(value));
            table.Add(0);
        }

        if (strings.Count == 0)
        {
            table.Add(0);
        }

        table.Add(0);
    }
}
