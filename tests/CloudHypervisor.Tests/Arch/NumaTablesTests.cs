using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using CloudHypervisor.Arch.Acpi;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Tests.Arch;

/// <summary>SRAT and SLIT for `--numa`, byte for byte as upstream lays them out, and as ACPICA reads them.</summary>
public class NumaTablesTests
{
    private static readonly AcpiNumaNode[] TwoNodes =
    [
        // Listed out of order on purpose: both tables go by ascending node id.
        new()
        {
            Id = 1,
            Memory = [(0x1000_0000, 0x1000_0000)],
            X2ApicIds = [1],
            Distances = new Dictionary<uint, byte> { [0] = 20 },
        },
        new()
        {
            Id = 0,
            Memory = [(0, 0x1000_0000)],
            X2ApicIds = [0],
        },
    ];

    private static readonly AcpiPlatform Platform = new()
    {
        BootVcpus = 2,
        MaxVcpus = 2,
        ApicIds = [0, 1],
        PciSegments = [new AcpiPciSegment(0, 0xC000_0000, 0xE7FF_FFFF, 0x1_0000_0000, 0x3FFE_FFFF_FFFF)],
        GedAddress = 0x3FFF_FFFE_D000,
        NumaNodes = TwoNodes,
    };

    [Fact]
    public void SratHeaderMatchesUpstream()
    {
        var srat = Srat.Build(TwoNodes);
        Assert.Equal("SRAT", Encoding.ASCII.GetString(srat, 0, 4));
        Assert.Equal(3, srat[8]);
        Assert.Equal("CLOUDH", Encoding.ASCII.GetString(srat, 10, 6));
        Assert.Equal("CHSRAT  ", Encoding.ASCII.GetString(srat, 16, 8));
        Assert.Equal(48 + (2 * 40) + (2 * 24), srat.Length);
        Assert.Equal((uint)srat.Length, BitConverter.ToUInt32(srat, 4));
        Assert.Equal(0, Sum(srat));
        Assert.All(srat[36..48], b => Assert.Equal(0, b));
    }

    [Fact]
    public void SratListsEachNodesMemoryThenItsCpus()
    {
        var srat = Srat.Build(TwoNodes);
        var entries = Entries(srat);
        Assert.Equal(new List<(byte Type, uint Domain)> { (1, 0), (2, 0), (1, 1), (2, 1) }, entries);

        var memory1 = srat.AsSpan(48 + 40 + 24, 40);
        Assert.Equal(40, memory1[1]);
        Assert.Equal(0x1000_0000UL, BinaryPrimitives.ReadUInt32LittleEndian(memory1[8..]) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(memory1[12..]) << 32));
        Assert.Equal(0x1000_0000UL, BinaryPrimitives.ReadUInt32LittleEndian(memory1[16..]) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(memory1[20..]) << 32));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(memory1[28..])); // enabled, not hotpluggable

        var cpu1 = srat.AsSpan(48 + 40 + 24 + 40, 24);
        Assert.Equal(24, cpu1[1]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(cpu1[8..])); // x2APIC id
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(cpu1[12..])); // enabled
    }

    [Fact]
    public void MemoryAbove4GiBSplitsItsBaseAndLengthIntoHalves()
    {
        var srat = Srat.Build([new AcpiNumaNode { Id = 0, Memory = [(0x1_0000_0000, 0x8000_0000)] }]);
        var entry = srat.AsSpan(48, 40);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]));
        Assert.Equal(0x8000_0000u, BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]));
    }

    [Fact]
    public void SlitUsesLocal10TheGivenDistanceAndItsMirror()
    {
        var slit = Slit.Build(TwoNodes);
        Assert.Equal("SLIT", Encoding.ASCII.GetString(slit, 0, 4));
        Assert.Equal(1, slit[8]);
        Assert.Equal("CHSLIT  ", Encoding.ASCII.GetString(slit, 16, 8));
        Assert.Equal(2UL, BitConverter.ToUInt64(slit, 36));
        // Node 1 says 20 to node 0; node 0 gave none, so it takes node 1's.
        Assert.Equal(new byte[] { 10, 20, 20, 10 }, slit[44..]);
        Assert.Equal(0, Sum(slit));
    }

    [Fact]
    public void SlitDefaultsUnstatedDistancesTo20()
    {
        var slit = Slit.Build(
        [
            new AcpiNumaNode { Id = 0, Distances = new Dictionary<uint, byte> { [2] = 30 } },
            new AcpiNumaNode { Id = 1 },
            new AcpiNumaNode { Id = 2 },
        ]);
        Assert.Equal(new byte[] { 10, 20, 30, 20, 10, 20, 30, 20, 10 }, slit[44..]);
    }

    [Fact]
    public void XsdtPointsAtSratAndSlitAfterMcfgOnlyWithNuma()
    {
        Assert.Equal(["FACP", "APIC", "MCFG", "SRAT", "SLIT"], XsdtSignatures(Platform));
        Assert.Equal(["FACP", "APIC", "MCFG"], XsdtSignatures(Platform with { NumaNodes = [] }));
    }

    [Fact]
    public void IaslDisassemblesSratAndSlit()
    {
        var iasl = "/usr/bin/iasl";
        Assert.True(File.Exists(iasl), "iasl is missing: run scripts/install-deps.sh (Debian package acpica-tools)");
        var dir = Directory.CreateTempSubdirectory("numa-");
        try
        {
            var srat = Disassemble(iasl, dir.FullName, "srat", Srat.Build(TwoNodes));
            Assert.Contains("Processor Local x2APIC Affinity", srat);
            Assert.Contains("Memory Affinity", srat);
            Assert.Contains("Base Address : 0000000010000000", srat);
            Assert.Contains("Proximity Domain : 00000001", srat);

            var slit = Disassemble(iasl, dir.FullName, "slit", Slit.Build(TwoNodes));
            Assert.Contains("Localities : 0000000000000002", slit);
            Assert.Contains("Locality 0 : 0A 14", slit);
            Assert.Contains("Locality 1 : 14 0A", slit);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Disassemble(string iasl, string dir, string name, byte[] table)
    {
        var path = Path.Combine(dir, name + ".dat");
        File.WriteAllBytes(path, table);
        var psi = new ProcessStartInfo(iasl, ["-d", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"iasl -d {name}: {output}");
        Assert.DoesNotContain("Error", output, StringComparison.Ordinal);
        var dsl = File.ReadAllText(Path.ChangeExtension(path, ".dsl"));
        Assert.DoesNotContain("Invalid", dsl, StringComparison.Ordinal);
        return System.Text.RegularExpressions.Regex.Replace(dsl, @"[ \t]+", " ");
    }

    private static List<string> XsdtSignatures(AcpiPlatform platform)
    {
        using var memory = GuestMemory.Create(Layout.RamRanges(16UL << 20), new GuestMemoryOptions());
        var rsdp = memory.GetSpan(AcpiTables.Write(memory, platform), 36);
        var xsdtAddress = BitConverter.ToUInt64(rsdp[24..32]);
        var xsdtLength = BitConverter.ToInt32(memory.GetSpan(xsdtAddress + 4, 4));
        var xsdt = memory.GetSpan(xsdtAddress, xsdtLength).ToArray();
        var signatures = new List<string>();
        for (var offset = 36; offset < xsdt.Length; offset += 8)
        {
            var address = BitConverter.ToUInt64(xsdt, offset);
            var length = BitConverter.ToInt32(memory.GetSpan(address + 4, 4));
            Assert.Equal(0, Sum(memory.GetSpan(address, length)));
            signatures.Add(Encoding.ASCII.GetString(memory.GetSpan(address, 4)));
        }

        return signatures;
    }

    private static List<(byte Type, uint Domain)> Entries(byte[] srat)
    {
        var entries = new List<(byte Type, uint Domain)>();
        for (var offset = 48; offset < srat.Length; offset += srat[offset + 1])
        {
            var domainOffset = srat[offset] == 1 ? 2 : 4;
            entries.Add((srat[offset], BitConverter.ToUInt32(srat, offset + domainOffset)));
        }

        return entries;
    }

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
