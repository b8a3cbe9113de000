using System.Buffers.Binary;
using System.Text;

namespace CloudHypervisor.Arch.Acpi;

/// <summary>
/// A small ACPI Machine Language encoder: each method appends one term to the current list;
/// nested scopes (Device, Method, Package, Buffer) are built by a callback.
/// </summary>
public sealed class Aml
{
    private readonly List<byte> bytes = [];

    public byte[] ToArray() => bytes.ToArray();

    public Aml Name(string path, Action<Aml> value)
    {
        bytes.Add(0x08);
        NameString(path);
        value(this);
        return this;
    }

    public Aml Integer(ulong value)
    {
        switch (value)
        {
            case 0:
                bytes.Add(0x00);
                break;
            case 1:
                bytes.Add(0x01);
                break;
            case <= byte.MaxValue:
                bytes.Add(0x0A);
                bytes.Add((byte)value);
                break;
            case <= ushort.MaxValue:
                bytes.Add(0x0B);
                AddLittleEndian(value, 2);
                break;
            case <= uint.MaxValue:
                bytes.Add(0x0C);
                AddLittleEndian(value, 4);
                break;
            default:
                bytes.Add(0x0E);
                AddLittleEndian(value, 8);
                break;
        }

        return this;
    }

    public Aml String(string value)
    {
        bytes.Add(0x0D);
        bytes.AddRange(Encoding.ASCII.GetBytes(value));
        bytes.Add(0);
        return this;
    }

    /// <summary>A compressed EISA id such as "PNP0A08".</summary>
    public Aml EisaId(string id)
    {
        var c = id.ToUpperInvariant();
        var value = ((uint)(c[0] - 0x40) << 26) | ((uint)(c[1] - 0x40) << 21) | ((uint)(c[2] - 0x40) << 16)
            | Convert.ToUInt32(c[3..], 16);
        bytes.Add(0x0C);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        bytes.AddRange(b);
        return this;
    }

    public Aml Package(params Action<Aml>[] elements)
    {
        var body = new Aml();
        body.bytes.Add((byte)elements.Length);
        foreach (var element in elements)
        {
            element(body);
        }

        return WithPackageLength(0x12, body.bytes);
    }

    public Aml Buffer(ReadOnlySpan<byte> data)
    {
        var body = new Aml().Integer((ulong)data.Length);
        body.bytes.AddRange(data);
        return WithPackageLength(0x11, body.bytes);
    }

    public Aml Scope(string path, Action<Aml> contents) => Block(0x10, path, contents);

    public Aml Device(string path, Action<Aml> contents)
    {
        bytes.Add(0x5B);
        return Block(0x82, path, contents);
    }

    /// <summary>A method with <paramref name="argCount"/> arguments (not serialized).</summary>
    public Aml Method(string path, int argCount, Action<Aml> body)
    {
        var inner = new Aml();
        inner.NameString(path);
        inner.bytes.Add((byte)(argCount & 7));
        body(inner);
        return WithPackageLength(0x14, inner.bytes);
    }

    public Aml Return(Action<Aml> value)
    {
        bytes.Add(0xA4);
        value(this);
        return this;
    }

    /// <summary>Notify(path, value).</summary>
    public Aml Notify(string path, ulong value)
    {
        bytes.Add(0x86);
        NameString(path);
        return Integer(value);
    }

    /// <summary>A method; <paramref name="serialized"/> sets the SerializeFlag as upstream does for event handlers.</summary>
    public Aml Method(string path, int argCount, bool serialized, Action<Aml> body)
    {
        var inner = new Aml();
        inner.NameString(path);
        inner.bytes.Add((byte)((argCount & 7) | (serialized ? 0x08 : 0)));
        body(inner);
        return WithPackageLength(0x14, inner.bytes);
    }

    /// <summary>OperationRegion(name, space, offset, length); space 0 is SystemMemory, 1 SystemIO.</summary>
    public Aml OperationRegion(string name, byte space, ulong offset, ulong length)
    {
        bytes.Add(0x5B);
        bytes.Add(0x80);
        NameString(name);
        bytes.Add(space);
        Integer(offset);
        return Integer(length);
    }

    /// <summary>Field(region, flags) { name, bits; ... }.</summary>
    public Aml Field(string region, byte flags, params (string Name, int Bits)[] fields)
    {
        var inner = new Aml();
        inner.NameString(region);
        inner.bytes.Add(flags);
        foreach (var (name, bits) in fields)
        {
            inner.bytes.AddRange(Sdt.Ascii(name.PadRight(4, '_'), 4));
            inner.bytes.Add((byte)bits);
        }

        bytes.Add(0x5B);
        return WithPackageLength(0x81, inner.bytes);
    }

    /// <summary>Store(source, target).</summary>
    public Aml Store(Action<Aml> source, Action<Aml> target)
    {
        bytes.Add(0x70);
        source(this);
        target(this);
        return this;
    }

    /// <summary>And(left, right, target).</summary>
    public Aml And(Action<Aml> left, Action<Aml> right, Action<Aml> target)
    {
        bytes.Add(0x7B);
        left(this);
        right(this);
        target(this);
        return this;
    }

    /// <summary>LEqual(left, right).</summary>
    public Aml LEqual(Action<Aml> left, Action<Aml> right)
    {
        bytes.Add(0x93);
        left(this);
        right(this);
        return this;
    }

    public Aml If(Action<Aml> predicate, Action<Aml> body)
    {
        var inner = new Aml();
        predicate(inner);
        body(inner);
        return WithPackageLength(0xA0, inner.bytes);
    }

    /// <summary>Arg0 to Arg6.</summary>
    public Aml Arg(int index)
    {
        bytes.Add((byte)(0x68 + index));
        return this;
    }

    /// <summary>Mutex(name, syncLevel).</summary>
    public Aml Mutex(string name, byte syncLevel = 0)
    {
        bytes.Add(0x5B);
        bytes.Add(0x01);
        NameString(name);
        bytes.Add(syncLevel);
        return this;
    }

    /// <summary>Acquire(mutex, 0xFFFF): wait for ever.</summary>
    public Aml Acquire(string mutex)
    {
        bytes.Add(0x5B);
        bytes.Add(0x23);
        NameString(mutex);
        bytes.Add(0xFF);
        bytes.Add(0xFF);
        return this;
    }

    public Aml Release(string mutex)
    {
        bytes.Add(0x5B);
        bytes.Add(0x27);
        return NameString(mutex);
    }

    /// <summary>ShiftLeft(value, count, target).</summary>
    public Aml ShiftLeft(Action<Aml> value, Action<Aml> count, Action<Aml> target)
    {
        bytes.Add(0x79);
        value(this);
        count(this);
        target(this);
        return this;
    }

    /// <summary>Notify(path, value) where the value is computed (an argument, say).</summary>
    public Aml Notify(string path, Action<Aml> value)
    {
        bytes.Add(0x86);
        NameString(path);
        value(this);
        return this;
    }

    /// <summary>A call of the method at <paramref name="path"/> with arguments (the method must be defined before).</summary>
    public Aml Call(string path, params Action<Aml>[] args)
    {
        NameString(path);
        foreach (var arg in args)
        {
            arg(this);
        }

        return this;
    }

    /// <summary>Local0 to Local7.</summary>
    public Aml Local(int index)
    {
        bytes.Add((byte)(0x60 + index));
        return this;
    }

    /// <summary>A call of a method without arguments, or a reference to a named object.</summary>
    public Aml Call(string path) => NameString(path);

    public Aml NameString(string path)
    {
        var rest = path;
        while (rest.StartsWith('\\') || rest.StartsWith('^'))
        {
            bytes.Add((byte)rest[0]);
            rest = rest[1..];
        }

        var segments = rest.Length == 0 ? [] : rest.Split('.');
        if (segments.Length == 2)
        {
            bytes.Add(0x2E);
        }
        else if (segments.Length > 2)
        {
            bytes.Add(0x2F);
            bytes.Add((byte)segments.Length);
        }
        else if (segments.Length == 0)
        {
            bytes.Add(0x00);
        }

        foreach (var segment in segments)
        {
            bytes.AddRange(Sdt.Ascii(segment.PadRight(4, '_'), 4));
        }

        return this;
    }

    private Aml Block(byte opcode, string path, Action<Aml> contents)
    {
        var inner = new Aml();
        inner.NameString(path);
        contents(inner);
        return WithPackageLength(opcode, inner.bytes);
    }

    private Aml WithPackageLength(byte opcode, List<byte> body)
    {
        bytes.Add(opcode);
        var length = body.Count;
        if (length + 1 < 0x40)
        {
            bytes.Add((byte)(length + 1));
        }
        else
        {
            var extra = length + 2 < 0x1000 ? 1 : length + 3 < 0x10_0000 ? 2 : 3;
            var total = length + 1 + extra;
            bytes.Add((byte)((extra << 6) | (total & 0xF)));
            for (var i = 0; i < extra; i++)
            {
                bytes.Add((byte)(total >> (4 + (8 * i))));
            }
        }

        bytes.AddRange(body);
        return this;
    }

    private void AddLittleEndian(ulong value, int size)
    {
        for (var i = 0; i < size; i++)
        {
            bytes.Add((byte)(value >> (8 * i)));
        }
    }
}
