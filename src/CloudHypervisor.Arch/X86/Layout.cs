namespace CloudHypervisor.Arch.X86;

/// <summary>Guest-physical layout of an x86-64 VM, as upstream lays it out.</summary>
public static class Layout
{
    public const ulong BootGdtStart = 0x500;
    public const ulong BootIdtStart = 0x520;
    public const ulong PvhInfoStart = 0x6000;
    public const ulong ModlistStart = 0x6040;
    public const ulong MemmapStart = 0x7000;
    public const ulong ZeroPageStart = 0x7000;
    public const ulong BootStackPointer = 0x8FF0;
    public const ulong CmdlineStart = 0x20000;
    public const int CmdlineMaxSize = 0x10000;
    public const ulong EbdaPointer = 0x40E;
    public const ulong EbdaStart = 0xA0000;
    public const ulong RsdpPointer = EbdaStart;
    public const ulong SmbiosStart = 0xF0000;
    public const ulong HighRamStart = 0x100000;

    public const ulong Mem32ReservedStart = 0xC000_0000;
    public const ulong Mem32ReservedSize = 0x4000_0000;
    public const ulong PciMmio32Start = 0xC000_0000;
    public const ulong PciMmio32Size = 640UL << 20;
    public const ulong PciMmconfigStart = 0xE800_0000;
    public const ulong PciMmconfigSize = 256UL << 20;
    public const ulong PciMmconfigSegmentSize = 1UL << 20;
    public const ulong KvmTssStart = 0xF800_0000;
    public const ulong KvmIdentityMapStart = 0xF800_3000;
    public const ulong IoapicStart = 0xFEC0_0000;
    public const ulong IoapicSize = 0x20;
    public const ulong LapicStart = 0xFEE0_0000;
    public const ulong RamAbove4GStart = 0x1_0000_0000;

    /// <summary>RAM below this is one region; beyond it the rest moves above 4 GiB.</summary>
    public const ulong Ram32BitEnd = Mem32ReservedStart;

    public const int DefaultPhysBits = 46;

    /// <summary>RAM ranges for <paramref name="size"/> bytes with no memory zones: below 3 GiB, then from 4 GiB.</summary>
    public static IReadOnlyList<(ulong Start, ulong Size)> RamRanges(ulong size) =>
        size <= Ram32BitEnd
            ? [(0, size)]
            : [(0, Ram32BitEnd), (RamAbove4GStart, size - Ram32BitEnd)];

    /// <summary>The 1 MiB platform device area just below the top of the guest address space.</summary>
    public static ulong PlatformDeviceAreaStart(int physBits) => (1UL << physBits) - (64UL << 10) - (1UL << 20);
}
