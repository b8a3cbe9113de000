using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Arch.X86;

/// <summary>The boot GDT upstream writes at 0x500: null, flat 32-bit code, flat data, TSS.</summary>
public static class Gdt
{
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18;

    public static readonly ulong[] BootEntries =
    [
        0,
        Entry(0xC09B, 0, 0xFFFFF),
        Entry(0xC093, 0, 0xFFFFF),
        Entry(0x008B, 0, 0x67),
    ];

    /// <summary>Packs a descriptor from access/flags (flags in bits 12-15 of <paramref name="flags"/>), base and 20-bit limit.</summary>
    public static ulong Entry(ushort flags, uint baseAddress, uint limit) =>
        ((ulong)(baseAddress & 0xFF00_0000) << 32)
        | ((ulong)(flags & 0xF0FF) << 40)
        | ((ulong)(limit & 0x000F_0000) << 32)
        | ((ulong)(baseAddress & 0x00FF_FFFF) << 16)
        | (limit & 0x0000_FFFF);

    public static SegmentRegister ToSegment(ulong entry, ushort selector)
    {
        var access = (byte)(entry >> 40);
        var flags = (byte)((entry >> 52) & 0xF);
        var rawLimit = (uint)((entry & 0xFFFF) | ((entry >> 32) & 0xF_0000));
        var granular = (flags & 0x8) != 0;
        var present = (byte)(access >> 7);
        return new SegmentRegister
        {
            Base = ((entry >> 16) & 0xFF_FFFF) | ((entry >> 32) & 0xFF00_0000),
            Limit = granular ? (rawLimit << 12) | 0xFFF : rawLimit,
            Selector = selector,
            Type = (byte)(access & 0xF),
            S = (byte)((access >> 4) & 1),
            Dpl = (byte)((access >> 5) & 3),
            Present = present,
            Avl = (byte)(flags & 1),
            L = (byte)((flags >> 1) & 1),
            Db = (byte)((flags >> 2) & 1),
            G = granular ? (byte)1 : (byte)0,
            Unusable = present == 0 ? (byte)1 : (byte)0,
        };
    }
}
