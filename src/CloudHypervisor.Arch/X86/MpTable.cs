using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Arch.X86;

/// <summary>What <see cref="MpTable.Write"/> did; upstream logs the two skips (info and warning) and boots on.</summary>
public enum MpTableOutcome
{
    Written,

    /// <summary>"Skipping mptable creation due to too many CPUs": the last boot vCPU's APIC id does not fit xAPIC.</summary>
    SkippedTooManyCpus,

    /// <summary>"Skipping mptable creation due to insufficient space": the table would reach 1 MiB.</summary>
    SkippedInsufficientSpace,
}

/// <summary>
/// Intel MultiProcessor Specification 1.4 tables as upstream writes them after the SMBIOS tables: the `_MP_`
/// floating pointer, then the `PCMP` configuration table with one processor entry per boot vCPU, an ISA bus,
/// the IOAPIC (id 255), ISA IRQs 0–15 routed to IOAPIC pins 0–15, and LINT0 ExtINT / LINT1 NMI.
/// </summary>
public static class MpTable
{
    /// <summary>xAPIC ids stop at 254 (255 is broadcast and the IOAPIC takes the next one).</summary>
    public const uint MaxLegacyApicId = 254;
    public const byte IoapicId = (byte)(MaxLegacyApicId + 1);

    private const int FloatingPointerLength = 16, HeaderLength = 44, ProcessorLength = 20, EntryLength = 8, IsaIrqs = 16;
    private const byte ProcessorEntry = 0, BusEntry = 1, IoapicEntry = 2, IoInterruptEntry = 3, LocalInterruptEntry = 4;
    private const byte CpuEnabled = 1, CpuBootProcessor = 2, IoapicUsable = 1, ApicVersion = 0x14;
    private const byte InterruptInt = 0, InterruptNmi = 1, InterruptExtInt = 3;
    private const uint CpuSignature = 0x600, CpuFeatureFpu = 0x001, CpuFeatureApic = 0x200;

    /// <summary>Where upstream places the table: the next 16-byte boundary strictly past the SMBIOS bytes.</summary>
    public static ulong AddressAfterSmbios(ulong smbiosSize) => (Layout.SmbiosStart + smbiosSize + 16) & ~0xFUL;

    public static int Size(int cpus) => FloatingPointerLength + HeaderLength + (ProcessorLength * cpus) + (EntryLength * (2 + IsaIrqs + 2));

    /// <summary>
    /// Writes the tables at <paramref name="address"/> for the boot vCPUs whose x2APIC ids are <paramref name="bootApicIds"/>;
    /// throws <see cref="GuestMemoryException"/> when the range is not guest RAM.
    /// </summary>
    public static MpTableOutcome Write(GuestMemory memory, ulong address, ReadOnlySpan<uint> bootApicIds)
    {
        if (bootApicIds.Length > 0 && bootApicIds[^1] >= MaxLegacyApicId)
        {
            return MpTableOutcome.SkippedTooManyCpus;
        }

        var size = Size(bootApicIds.Length);
        if (address + (ulong)size >= Layout.HighRamStart)
        {
            return MpTableOutcome.SkippedInsufficientSpace;
        }

        if (!memory.IsValidRange(address, (ulong)size))
        {
            throw new GuestMemoryException("There was too little guest memory to store the entire MP table");
        }

        memory.Write(address, Build(address, bootApicIds));
        return MpTableOutcome.Written;
    }

    /// <summary>The floating pointer followed by the configuration table, for placement at <paramref name="address"/>.</summary>
    public static byte[] Build(ulong address, ReadOnlySpan<uint> bootApicIds)
    {
        var bytes = new byte[Size(bootApicIds.Length)];
        var pointer = bytes.AsSpan(0, FloatingPointerLength);
        "_MP_"u8.CopyTo(pointer);
        BinaryPrimitives.WriteUInt32LittleEndian(pointer[4..], (uint)(address + FloatingPointerLength));
        pointer[8] = 1; // length in 16-byte units
        pointer[9] = 4; // spec revision 1.4
        pointer[10] = Checksum(pointer);

        var table = bytes.AsSpan(FloatingPointerLength);
        var entries = table[HeaderLength..];
        for (var cpu = 0; cpu < bootApicIds.Length; cpu++)
        {
            var entry = entries.Slice(cpu * ProcessorLength, ProcessorLength);
            entry[0] = ProcessorEntry;
            entry[1] = (byte)bootApicIds[cpu];
            entry[2] = ApicVersion;
            entry[3] = cpu == 0 ? (byte)(CpuEnabled | CpuBootProcessor) : CpuEnabled;
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], CpuSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], CpuFeatureApic | CpuFeatureFpu);
        }

        var rest = entries[(bootApicIds.Length * ProcessorLength)..];
        rest[0] = BusEntry; // bus 0
        "ISA   "u8.CopyTo(rest[2..]);
        rest = rest[EntryLength..];

        rest[0] = IoapicEntry;
        rest[1] = IoapicId;
        rest[2] = ApicVersion;
        rest[3] = IoapicUsable;
        BinaryPrimitives.WriteUInt32LittleEndian(rest[4..], (uint)Layout.IoapicStart);
        rest = rest[EntryLength..];

        // Identity routing of the ISA IRQs, as KVM's default IRQ routing has it.
        for (byte irq = 0; irq < IsaIrqs; irq++)
        {
            rest[0] = IoInterruptEntry;
            rest[1] = InterruptInt;
            rest[4] = 0; // source bus
            rest[5] = irq;
            rest[6] = IoapicId;
            rest[7] = irq;
            rest = rest[EntryLength..];
        }

        rest[0] = LocalInterruptEntry;
        rest[1] = InterruptExtInt; // to APIC 0, LINT0
        rest = rest[EntryLength..];

        rest[0] = LocalInterruptEntry;
        rest[1] = InterruptNmi;
        rest[6] = 0xFF; // every local APIC
        rest[7] = 1; // LINT1

        "PCMP"u8.CopyTo(table);
        BinaryPrimitives.WriteUInt16LittleEndian(table[4..], (ushort)table.Length);
        table[6] = 4; // spec revision 1.4
        "FC      "u8.CopyTo(table[8..]);
        "000000000000"u8.CopyTo(table[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(table[36..], (uint)Layout.LapicStart);
        table[7] = Checksum(table);
        return bytes;
    }

    private static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (var b in data)
        {
            sum += b;
        }

        return unchecked((byte)-sum);
    }
}
