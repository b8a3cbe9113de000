using System.Diagnostics;
using CloudHypervisor.Arch.Acpi;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Tests.Arch;

public class AcpiTablesTests
{
    private static readonly AcpiPlatform Platform = new()
    {
        BootVcpus = 2,
        MaxVcpus = 4,
        ApicIds = [0, 1, 2, 3],
        PciSegments = [new AcpiPciSegment(0, 0xC000_0000, 0xE7FF_FFFF, 0x1_0000_0000, 0x3FFE_FFFF_FFFF)],
        GedAddress = 0x3FFF_FFFE_D000,
        PciHotplugAddress = 0x3FFF_FFFE_F000,
    };

    [Fact]
    public void TablesAreChecksummedAndChainedFromRsdp()
    {
        using var memory = GuestMemory.Create(Layout.RamRanges(16UL << 20), new GuestMemoryOptions());
        var rsdpAddress = AcpiTables.Write(memory, Platform);
        var rsdp = memory.GetSpan(rsdpAddress, 36);
        Assert.True(rsdp[..8].SequenceEqual("RSD PTR "u8));
        Assert.Equal(0, Sum(rsdp[..20]));
        Assert.Equal(0, Sum(rsdp));

        var xsdtAddress = BitConverter.ToUInt64(rsdp[24..32]);
        var xsdt = Table(memory, xsdtAddress);
        Assert.True(xsdt[..4].SequenceEqual("XSDT"u8));
        var signatures = new List<string>();
        for (var offset = 36; offset < xsdt.Length; offset += 8)
        {
            var table = Table(memory, BitConverter.ToUInt64(xsdt.Slice(offset, 8)));
            Assert.Equal(0, Sum(table));
            signatures.Add(System.Text.Encoding.ASCII.GetString(table[..4]));
        }

        Assert.Equal(["FACP", "APIC", "MCFG"], signatures);
        Assert.Equal(Layout.RsdpPointer + 36, BitConverter.ToUInt64(Table(memory, Pointer(memory, xsdt, 0)).Slice(140, 8)));
    }

    [Fact]
    public void MadtListsEveryPossibleCpuAsX2Apic()
    {
        var madt = AcpiTables.BuildMadt(Platform);
        Assert.Equal(44 + (4 * 16) + 12 + 10, madt.Length);
        for (var i = 0; i < 4; i++)
        {
            var entry = madt.AsSpan(44 + (i * 16), 16);
            Assert.Equal(9, entry[0]);
            Assert.Equal((uint)i, BitConverter.ToUInt32(entry[4..8]));
            Assert.Equal(i < 2 ? 3u : 2u, BitConverter.ToUInt32(entry[8..12]));
        }
    }

    [Fact]
    public void FadtDescribesHardwareReducedPowerControlAtPort0x600()
    {
        var fadt = AcpiTables.BuildFadt(0xA0024);
        Assert.Equal(276, fadt.Length);
        Assert.Equal(0x0010_0500u, BitConverter.ToUInt32(fadt, 112));
        Assert.Equal(0x600UL, BitConverter.ToUInt64(fadt, 244 + 4));
        Assert.Equal(1, fadt[244]);
        Assert.Equal("CLOUDHYP", System.Text.Encoding.ASCII.GetString(fadt, 268, 8));
    }

    /// <summary>ACPICA's disassembler must accept every table without errors (issue: "checked by iasl").</summary>
    [Fact]
    public void IaslDisassemblesEveryTable()
    {
        Assert.True(File.Exists("/usr/bin/iasl"), "iasl is missing: run scripts/install-deps.sh (Debian package acpica-tools)");
        var dsdt = Disassemble("dsdt", AcpiTables.BuildDsdt(Platform));
        Assert.Contains("PNP0A08", dsdt);
        Assert.Contains("_S5_", dsdt);
        Assert.Contains("ACPI0013", dsdt);
        Assert.Contains("COM1", dsdt);
        Disassemble("facp", AcpiTables.BuildFadt(0xA0024));
        Disassemble("apic", AcpiTables.BuildMadt(Platform));
        Disassemble("mcfg", AcpiTables.BuildMcfg(Platform));
    }

    [Fact]
    public void EverySegmentHasAnMcfgEntryAndAHostBridgeOverItsOwnWindows()
    {
        var platform = Platform with
        {
            PciSegments =
            [
                new AcpiPciSegment(0, 0xC000_0000, 0xD3FF_FFFF, 0x1_0000_0000, 0x1FFF_FFFF_FFFF),
                new AcpiPciSegment(1, 0xD400_0000, 0xE7FF_FFFF, 0x2000_0000_0000, 0x3FFE_FFFF_FFFF, ProximityDomain: 1),
            ],
        };

        var mcfg = AcpiTables.BuildMcfg(platform);
        Assert.Equal(44 + (2 * 16), mcfg.Length);
        Assert.Equal(0xE800_0000UL, BitConverter.ToUInt64(mcfg, 44));
        Assert.Equal(0, BitConverter.ToUInt16(mcfg, 52));
        Assert.Equal(0xE810_0000UL, BitConverter.ToUInt64(mcfg, 60));
        Assert.Equal(1, BitConverter.ToUInt16(mcfg, 68));

        var dsl = Disassemble("dsdt", AcpiTables.BuildDsdt(platform));
        var start = dsl.IndexOf("PC01)", StringComparison.Ordinal);
        Assert.True(start >= 0, dsl);
        var pc01 = dsl[start..];
        pc01 = pc01[..pc01.IndexOf("Device (", StringComparison.Ordinal)];
        Assert.Contains("Name (_SEG, One)", pc01);
        Assert.Contains("Name (_PXM, One)", pc01);
        Assert.Contains("0xD4000000,         // Range Minimum", pc01);
        Assert.Contains("0x0000200000000000, // Range Minimum", pc01);
        Assert.Contains("0xE8100000,         // Address Base", pc01);
        Assert.DoesNotContain("0x0CF8", pc01);
        Assert.Contains("PC00)", dsl);
    }

    [Fact]
    public void DsdtDescribesPciHotplugAsUpstream()
    {
        var platform = Platform with
        {
            PciSegments =
            [
                new AcpiPciSegment(0, 0xC000_0000, 0xD3FF_FFFF, 0x1_0000_0000, 0x1FFF_FFFF_FFFF),
                new AcpiPciSegment(1, 0xD400_0000, 0xE7FF_FFFF, 0x2000_0000_0000, 0x3FFE_FFFF_FFFF),
            ],
        };
        var dsl = Disassemble("dsdt", AcpiTables.BuildDsdt(platform));

        var phpr = Section(dsl, "Device (\\_SB.PHPR)");
        Assert.Contains("Name (_HID, EisaId (\"PNP0A06\")", phpr);
        Assert.Contains("Name (_STA, 0x0B)", phpr);
        Assert.Contains("Name (_UID, \"PCI Hotplug Controller\")", phpr);
        Assert.Contains("Mutex (BLCK, 0x00)", phpr);
        Assert.Contains("OperationRegion (PCST, SystemMemory, 0x00003FFFFFFEF000, 0x10)", phpr);
        Assert.Contains("Field (PCST, DWordAcc, NoLock, WriteAsZeros)", phpr);
        Assert.Matches(@"PCIU,\s+32,\s+PCID,\s+32,\s+B0EJ,\s+32,\s+PSEG,\s+32", phpr);
        Assert.Contains("PSEG = Arg1", phpr);
        Assert.Contains("B0EJ = (One << Arg0)", phpr);
        Assert.Contains("\\_SB.PC00.PCNT ()", phpr);
        Assert.Contains("\\_SB.PC01.PCNT ()", phpr);

        var pc01 = Section(dsl, "Device (\\_SB.PC01)");
        Assert.Contains("Device (S000)", pc01);
        Assert.Contains("Device (S031)", pc01);
        Assert.Contains("Name (_SUN, 0x1F)", pc01);
        Assert.Contains("Name (_ADR, 0x001F0000)", pc01);
        Assert.Contains("\\_SB.PHPR.PCEJ (_SUN, _SEG)", pc01);
        Assert.Contains("Notify (S031, Arg1)", pc01);
        Assert.Contains("DVNT (\\_SB.PHPR.PCIU, One)", pc01);
        Assert.Contains("DVNT (\\_SB.PHPR.PCID, 0x03)", pc01);

        var gec = Section(dsl, "Device (\\_SB.GEC)");
        Assert.Contains("\\_SB.PHPR.PSCN ()", gec);
        Assert.Contains("Notify (\\_SB.PWRB, 0x80)", gec);
    }

    /// <summary>iasl must compile its own disassembly of the DSDT again: method calls, argument counts and references all resolve.</summary>
    [Fact]
    public void IaslRecompilesTheDsdt()
    {
        var dir = Directory.CreateTempSubdirectory("acpi-");
        try
        {
            var dsl = Path.Combine(dir.FullName, "dsdt.dsl");
            File.WriteAllText(dsl, Disassemble("dsdt", AcpiTables.BuildDsdt(Platform)));
            var psi = new ProcessStartInfo("/usr/bin/iasl", ["-p", Path.Combine(dir.FullName, "out"), dsl])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"iasl: {output}");
            Assert.Contains("0 Errors", output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Section(string dsl, string header)
    {
        var start = dsl.IndexOf(header, StringComparison.Ordinal);
        Assert.True(start >= 0, $"{header} missing:\n{dsl}");
        var rest = dsl[(start + header.Length)..];
        var next = rest.IndexOf("\n    Device (", StringComparison.Ordinal);
        return next < 0 ? rest : rest[..next];
    }

    private static string Disassemble(string name, byte[] table)
    {
        var dir = Directory.CreateTempSubdirectory("acpi-");
        try
        {
            var path = Path.Combine(dir.FullName, name + ".dat");
            File.WriteAllBytes(path, table);
            var psi = new ProcessStartInfo("/usr/bin/iasl", ["-d", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"iasl -d {name}: {output}");
            Assert.DoesNotContain("Error", output, StringComparison.Ordinal);
            return File.ReadAllText(Path.ChangeExtension(path, ".dsl"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static ulong Pointer(GuestMemory memory, ReadOnlySpan<byte> xsdt, int index) =>
        BitConverter.ToUInt64(xsdt.Slice(36 + (index * 8), 8));

    private static Span<byte> Table(GuestMemory memory, ulong address)
    {
        var length = BitConverter.ToInt32(memory.GetSpan(address + 4, 4));
        return memory.GetSpan(address, length);
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
