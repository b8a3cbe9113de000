using System.Text;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.Smbios;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Tests.Arch;

public class MpTableTests
{
    [Theory]
    [InlineData(0x5E, 0xF0060)]
    [InlineData(0x60, 0xF0070)] // already aligned: upstream still moves to the next boundary
    [InlineData(0x61, 0xF0070)]
    public void TableStartsOnTheNext16ByteBoundaryPastSmbios(ulong smbiosSize, ulong expected)
    {
        Assert.Equal(expected, MpTable.AddressAfterSmbios(smbiosSize));
    }

    /// <summary>A default VM's kernel log reads "found SMP MP-table at [mem 0x000f0090-0x000f009f]", as upstream's does.</summary>
    [Fact]
    public void DefaultVmPutsTheFloatingPointerAt0xF0090()
    {
        using var memory = NewMemory();
        var smbiosSize = SmbiosTables.Write(memory, null);

        Assert.Equal(0x84UL, smbiosSize);
        Assert.Equal(0xF0090UL, MpTable.AddressAfterSmbios(smbiosSize));
    }

    [Fact]
    public void FloatingPointerAndConfigurationTableAreChecksummedAndLinked()
    {
        using var memory = NewMemory();
        var address = MpTable.AddressAfterSmbios(SmbiosTables.Write(memory, null));

        Assert.Equal(MpTableOutcome.Written, MpTable.Write(memory, address, [0, 1]));

        var pointer = memory.GetSpan(address, 16);
        Assert.Equal("_MP_", Encoding.ASCII.GetString(pointer[..4]));
        Assert.Equal(0, Sum(pointer));
        Assert.Equal((uint)address + 16, BitConverter.ToUInt32(pointer[4..8]));
        Assert.Equal([1, 4], pointer[8..10].ToArray().Select(b => (int)b));
        Assert.All(pointer[11..16].ToArray(), b => Assert.Equal(0, b)); // feature bytes: configuration table present

        var length = BitConverter.ToUInt16(memory.GetSpan(address + 20, 2));
        var table = memory.GetSpan(address + 16, length);
        Assert.Equal(MpTable.Size(2) - 16, length);
        Assert.Equal(0, Sum(table));
        Assert.Equal("PCMP", Encoding.ASCII.GetString(table[..4]));
        Assert.Equal(4, table[6]);
        Assert.Equal("FC      ", Encoding.ASCII.GetString(table[8..16]));
        Assert.Equal("000000000000", Encoding.ASCII.GetString(table[16..28]));
        Assert.Equal(0xFEE0_0000u, BitConverter.ToUInt32(table[36..40]));
    }

    [Fact]
    public void EntriesDescribeBootCpusIsaBusIoapicAndIrqRouting()
    {
        var bytes = MpTable.Build(0xF0070, [0, 2, 4]);
        var entries = bytes.AsSpan(16 + 44);

        var types = new List<int>();
        var offset = 0;
        while (offset < entries.Length)
        {
            types.Add(entries[offset]);
            offset += entries[offset] == 0 ? 20 : 8;
        }

        Assert.Equal(entries.Length, offset);
        Assert.Equal([0, 0, 0, 1, 2, .. Enumerable.Repeat(3, 16), 4, 4], types);

        for (var cpu = 0; cpu < 3; cpu++)
        {
            var entry = entries.Slice(cpu * 20, 20);
            Assert.Equal(cpu * 2, entry[1]); // the vCPU's APIC id, not its index
            Assert.Equal(0x14, entry[2]);
            Assert.Equal(cpu == 0 ? 3 : 1, entry[3]); // enabled, BSP on the first only
            Assert.Equal(0x600u, BitConverter.ToUInt32(entry[4..8]));
            Assert.Equal(0x201u, BitConverter.ToUInt32(entry[8..12]));
        }

        var bus = entries.Slice(60, 8);
        Assert.Equal("ISA   ", Encoding.ASCII.GetString(bus[2..8]));

        var ioapic = entries.Slice(68, 8);
        Assert.Equal([2, 255, 0x14, 1], ioapic[..4].ToArray().Select(b => (int)b));
        Assert.Equal(0xFEC0_0000u, BitConverter.ToUInt32(ioapic[4..8]));

        for (var irq = 0; irq < 16; irq++)
        {
            var source = entries.Slice(76 + (irq * 8), 8);
            Assert.Equal([3, 0, 0, 0, 0, irq, 255, irq], source.ToArray().Select(b => (int)b));
        }

        Assert.Equal([4, 3, 0, 0, 0, 0, 0, 0], entries.Slice(204, 8).ToArray().Select(b => (int)b)); // LINT0 ExtINT
        Assert.Equal([4, 1, 0, 0, 0, 0, 255, 1], entries.Slice(212, 8).ToArray().Select(b => (int)b)); // LINT1 NMI to all
    }

    [Fact]
    public void SkippedWhenTheLastBootCpuHasNoXapicId()
    {
        using var memory = NewMemory();

        Assert.Equal(MpTableOutcome.SkippedTooManyCpus, MpTable.Write(memory, 0xF0070, [0, 254]));
        Assert.Equal(MpTableOutcome.Written, MpTable.Write(memory, 0xF0070, [0, 253]));
    }

    [Fact]
    public void SkippedWhenItWouldReachOneMebibyte()
    {
        using var memory = NewMemory();
        var address = Layout.HighRamStart - (ulong)MpTable.Size(1);

        Assert.Equal(MpTableOutcome.SkippedInsufficientSpace, MpTable.Write(memory, address, [0]));
        Assert.True(memory.GetSpan(address, 4).SequenceEqual(new byte[4]));
    }

    [Fact]
    public void FailsWhenTheRangeIsNotGuestRam()
    {
        using var memory = GuestMemory.Create([(0, 0xF0000)], new GuestMemoryOptions());

        var error = Assert.Throws<GuestMemoryException>(() => MpTable.Write(memory, 0xF0070, [0]));
        Assert.Equal("There was too little guest memory to store the entire MP table", error.Message);
    }

    private static GuestMemory NewMemory() => GuestMemory.Create(Layout.RamRanges(16UL << 20), new GuestMemoryOptions());

    private static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (var b in bytes)
        {
            sum += b;
        }

        return sum;
    }
}
