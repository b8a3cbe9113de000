using System.Diagnostics;
using System.Text;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.Smbios;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Tests.Arch;

public class SmbiosTablesTests
{
    private static readonly SmbiosPlatform FullPlatform = new()
    {
        SystemManufacturer = "ACME",
        SystemProductName = "Roadrunner",
        SystemVersion = "v2",
        SystemSerialNumber = "SN-42",
        SystemUuid = "33221100-5544-7766-8899-aabbccddeeff",
        SystemSkuNumber = "SKU-7",
        SystemFamily = "Birds",
        ChassisAssetTag = "asset-1",
        OemStrings = ["io.systemd.credential:xx=yy", "second"],
    };

    [Fact]
    public void EntryPointIsAChecksummedSmbios32AnchorPointingRightBehindItself()
    {
        using var memory = NewMemory();
        var size = SmbiosTables.Write(memory, null);

        var entry = memory.GetSpan(Layout.SmbiosStart, 0x18);
        Assert.Equal("_SM3_", Encoding.ASCII.GetString(entry[..5]));
        Assert.Equal(0, Sum(entry));
        Assert.Equal(0x18, entry[6]);
        Assert.Equal([3, 2, 0, 1, 0], entry[7..12].ToArray()); // 3.2.0, docrev 0, entry point rev 1, reserved
        var tableLength = BitConverter.ToUInt32(entry[12..16]);
        Assert.Equal(0xF0018UL, BitConverter.ToUInt64(entry[16..24]));
        Assert.Equal(0x18UL + tableLength, size);
        Assert.Equal(tableLength, (uint)Walk(memory.GetSpan(0xF0018, (int)tableLength)).Sum(s => s.Size));
    }

    [Fact]
    public void DefaultTablesNameCloudHypervisorAsBiosVendorAndSystem()
    {
        var structures = Walk(SmbiosTables.BuildStructures(null));

        Assert.Equal([0, 1, 127], structures.Select(s => (int)s.Type));
        Assert.Equal([1, 2, 3], structures.Select(s => (int)s.Handle));
        Assert.Equal([0x14, 0x1B, 4], structures.Select(s => s.Formatted.Length));

        var bios = structures[0];
        Assert.Equal(["cloud-hypervisor", "0"], bios.Strings);
        Assert.Equal([1, 2], new[] { bios.Formatted[4], bios.Formatted[5] }.Select(b => (int)b));
        Assert.Equal(0, bios.Formatted[8]); // no release date string
        Assert.Equal(1UL << 7, BitConverter.ToUInt64(bios.Formatted, 10)); // PCI supported
        Assert.Equal(1 << 4, bios.Formatted[19]); // virtual machine

        var system = structures[1];
        Assert.Equal(["Cloud Hypervisor", "cloud-hypervisor"], system.Strings);
        Assert.Equal([1, 2, 0, 0], system.Formatted[4..8].Select(b => (int)b));
        Assert.All(system.Formatted[8..24], b => Assert.Equal(0, b)); // nil UUID
        Assert.Equal(2, system.Formatted[24]); // wake-up type "unknown"
        Assert.Equal([0, 0], system.Formatted[25..27].Select(b => (int)b));

        Assert.Empty(structures[2].Strings);
    }

    [Fact]
    public void EveryPlatformFieldLandsInItsStructure()
    {
        var structures = Walk(SmbiosTables.BuildStructures(FullPlatform));

        Assert.Equal([0, 1, 3, 11, 127], structures.Select(s => (int)s.Type));
        Assert.Equal([1, 2, 3, 4, 5], structures.Select(s => (int)s.Handle));

        var system = structures[1];
        Assert.Equal(["ACME", "Roadrunner", "v2", "SN-42", "SKU-7", "Birds"], system.Strings);
        Assert.Equal([1, 2, 3, 4], system.Formatted[4..8].Select(b => (int)b));
        Assert.Equal([5, 6], system.Formatted[25..27].Select(b => (int)b));

        var chassis = structures[2];
        Assert.Equal(0x15, chassis.Formatted.Length);
        Assert.Equal(["asset-1"], chassis.Strings);
        Assert.Equal([0, 2, 0, 0, 1, 2, 2, 2, 3], chassis.Formatted[4..13].Select(b => (int)b));

        var oem = structures[3];
        Assert.Equal(5, oem.Formatted.Length);
        Assert.Equal(2, oem.Formatted[4]);
        Assert.Equal(["io.systemd.credential:xx=yy", "second"], oem.Strings);
    }

    [Fact]
    public void OptionalSystemStringsAreNumberedInOrderOfPresence()
    {
        var system = Walk(SmbiosTables.BuildStructures(new SmbiosPlatform { SystemSerialNumber = "S", SystemFamily = "F" }))[1];

        Assert.Equal(["Cloud Hypervisor", "cloud-hypervisor", "S", "F"], system.Strings);
        Assert.Equal([1, 2, 0, 3], system.Formatted[4..8].Select(b => (int)b));
        Assert.Equal([0, 4], system.Formatted[25..27].Select(b => (int)b));
    }

    [Fact]
    public void EmptyAssetTagStillLeavesAWellFormedStringSet()
    {
        var table = SmbiosTables.BuildStructures(new SmbiosPlatform { ChassisAssetTag = string.Empty });
        var chassis = Walk(table)[2];

        Assert.Equal(3, chassis.Type);
        Assert.Equal(0x15 + 2, chassis.Size);
        Assert.Equal(1, chassis.Formatted[8]);
    }

    [Theory]
    [InlineData("33221100-5544-7766-8899-aabbccddeeff")]
    [InlineData("33221100554477668899AABBCCDDEEFF")]
    [InlineData("{33221100-5544-7766-8899-AABBCCDDEEFF}")]
    [InlineData("urn:uuid:33221100-5544-7766-8899-aabbccddeeff")]
    public void UuidIsStoredWithItsFirstThreeFieldsLittleEndian(string uuid)
    {
        var system = Walk(SmbiosTables.BuildStructures(new SmbiosPlatform { SystemUuid = uuid }))[1];

        Assert.Equal(Convert.FromHexString("00112233445566778899AABBCCDDEEFF"), system.Formatted[8..24]);
    }

    [Theory]
    [InlineData("xyz", "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 1")]
    [InlineData("abc", "invalid length: expected length 32 for simple format, found 3")]
    [InlineData("F9168C5E-CEB2-4faa-BGBF-329BF39FA1E4", "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `G` at 21")] // 1-based byte offsets
    [InlineData("F9168C5E-CEB2-4faa-B6BFF329BF39FA1E4", "invalid group count: expected 5, found 4")]
    [InlineData("{00000000000000000000000000000000}", "invalid group count: expected 5, found 1")]
    [InlineData("67e550-4105b1426f9247bb680e5fe0c", "invalid group count: expected 5, found 2")]
    [InlineData("67e550-4105-b142-6f92-47bb680e5fe0c", "invalid group length in group 0: expected 8, found 6")]
    [InlineData("{67e55044-10b1-426f-9247-bb680e5fe0c8", "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{` at 1")]
    [InlineData("01020304-1112-2122-3132-41424344", "invalid group length in group 4: expected 12, found 8")]
    public void UnparsableUuidFailsWithUpstreamsErrorChain(string uuid, string cause)
    {
        var error = Assert.Throws<SmbiosException>(() => SmbiosTables.BuildStructures(new SmbiosPlatform { SystemUuid = uuid }));

        Assert.Equal(["Error setting up SMBIOS table", $"Failure to parse uuid: {uuid}", cause], error.Chain());
    }

    /// <summary>dmidecode must decode the tables with every field where the kernel and tools expect it.</summary>
    [Fact]
    public void DmidecodeDecodesTheTables()
    {
        const string dmidecode = "/usr/sbin/dmidecode";
        Assert.True(File.Exists(dmidecode), "dmidecode is missing: run scripts/install-deps.sh (Debian package dmidecode)");
        var dump = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(dump, DmidecodeDump(SmbiosTables.BuildStructures(FullPlatform)));
            var psi = new ProcessStartInfo(dmidecode, ["--from-dump", dump]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            var errors = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();

            Assert.True(process.ExitCode == 0 && errors.Result.Length == 0, $"dmidecode exit {process.ExitCode}: {errors.Result}{output}");
            foreach (var expected in new[]
            {
                "SMBIOS 3.2.0 present.",
                "Handle 0x0001, DMI type 0, 20 bytes", "Vendor: cloud-hypervisor", "Version: 0", "PCI is supported", "System is a virtual machine",
                "Handle 0x0002, DMI type 1, 27 bytes", "Manufacturer: ACME", "Product Name: Roadrunner", "Version: v2", "Serial Number: SN-42",
                "UUID: 33221100-5544-7766-8899-aabbccddeeff", "Wake-up Type: Unknown", "SKU Number: SKU-7", "Family: Birds",
                "Handle 0x0003, DMI type 3, 21 bytes", "Asset Tag: asset-1", "Security Status: None",
                "Handle 0x0004, DMI type 11, 5 bytes", "String 1: io.systemd.credential:xx=yy", "String 2: second",
                "Handle 0x0005, DMI type 127, 4 bytes", "End Of Table",
            })
            {
                Assert.Contains(expected, output, StringComparison.OrdinalIgnoreCase);
            }

            Assert.DoesNotContain("Invalid", output, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("wrong", output, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(dump);
        }
    }

    /// <summary>The layout `dmidecode --dump-bin` writes: the entry point at offset 0 pointing at the table at offset 32.</summary>
    private static byte[] DmidecodeDump(byte[] table)
    {
        const int tableOffset = 32;
        var dump = new byte[tableOffset + table.Length];
        SmbiosTables.BuildEntryPoint(tableOffset, table.Length).CopyTo(dump, 0);
        table.CopyTo(dump, tableOffset);
        return dump;
    }

    private static GuestMemory NewMemory() => GuestMemory.Create(Layout.RamRanges(16UL << 20), new GuestMemoryOptions());

    private sealed record Structure(byte Type, ushort Handle, byte[] Formatted, List<string> Strings, int Size);

    /// <summary>Splits a structure table the way SMBIOS readers do: formatted area by its length byte, then strings up to the double NUL.</summary>
    private static List<Structure> Walk(ReadOnlySpan<byte> table)
    {
        var structures = new List<Structure>();
        var offset = 0;
        while (offset < table.Length)
        {
            var length = table[offset + 1];
            var formatted = table.Slice(offset, length).ToArray();
            var cursor = offset + length;
            var strings = new List<string>();
            if (table[cursor] == 0)
            {
                Assert.Equal(0, table[cursor + 1]);
                cursor += 2;
            }
            else
            {
                while (table[cursor] != 0)
                {
                    var end = table[cursor..].IndexOf((byte)0);
                    strings.Add(Encoding.UTF8.GetString(table.Slice(cursor, end)));
                    cursor += end + 1;
                }

                cursor++;
            }

            structures.Add(new Structure(formatted[0], BitConverter.ToUInt16(formatted, 2), formatted, strings, cursor - offset));
            offset = cursor;
            if (formatted[0] == 127)
            {
                break;
            }
        }

        Assert.Equal(table.Length, offset);
        return structures;
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
