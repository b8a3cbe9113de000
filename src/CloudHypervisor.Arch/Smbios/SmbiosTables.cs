using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Smbios;

/// <summary>
/// Upstream's SMBIOS 3.2 tables: a 64-bit (`_SM3_`) entry point at 0xF0000 and, right after it, structures of
/// type 0 (BIOS), 1 (system), [3 (chassis)], [11 (OEM strings)] and 127 (end of table), handles numbered from 1.
/// </summary>
public static class SmbiosTables
{
    public const int EntryPointLength = 0x18;
    public const ulong TableAddress = Layout.SmbiosStart + EntryPointLength;

    private const byte BiosInformation = 0, SystemInformation = 1, SystemEnclosure = 3, OemStrings = 11, EndOfTable = 127;
    private const ulong PciSupported = 1UL << 7;
    private const byte IsVirtualMachine = 1 << 4;
    private const byte WakeUpTypeUnknown = 2, ChassisTypeUnknown = 2, ChassisStateUnknown = 2, ChassisSecurityNone = 3;

    /// <summary>Writes the entry point and structures; returns the bytes used from 0xF0000 (the MP table goes after them).</summary>
    public static ulong Write(GuestMemory memory, SmbiosPlatform? platform)
    {
        var table = BuildStructures(platform);
        memory.Write(TableAddress, table);
        memory.Write(Layout.SmbiosStart, BuildEntryPoint(TableAddress, table.Length));
        return EntryPointLength + (ulong)table.Length;
    }

    public static byte[] BuildEntryPoint(ulong tableAddress, int tableLength)
    {
        var entry = new byte[EntryPointLength];
        "_SM3_"u8.CopyTo(entry);
        entry[6] = EntryPointLength;
        entry[7] = 3; // SMBIOS 3.2.0
        entry[8] = 2;
        entry[9] = 0; // docrev
        entry[10] = 1; // entry point revision: SMBIOS 3.0
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), (uint)tableLength);
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(16), tableAddress);
        entry[5] = Checksum(entry);
        return entry;
    }

    /// <summary>The structure table; throws <see cref="SmbiosException"/> when the system UUID does not parse.</summary>
    public static byte[] BuildStructures(SmbiosPlatform? platform)
    {
        platform ??= new SmbiosPlatform();
        var table = new List<byte>(256);
        ushort handle = 0;

        new SmbiosStructure(BiosInformation, 0x14, ++handle)
            .StringField(4, "cloud-hypervisor")
            .StringField(5, "0")
            .U64(10, PciSupported)
            .Byte(19, IsVirtualMachine)
            .AppendTo(table);

        new SmbiosStructure(SystemInformation, 0x1B, ++handle)
            .StringField(4, platform.SystemManufacturer ?? SmbiosPlatform.DefaultSystemManufacturer)
            .StringField(5, platform.SystemProductName ?? SmbiosPlatform.DefaultSystemProductName)
            .StringField(6, platform.SystemVersion)
            .StringField(7, platform.SystemSerialNumber)
            .Bytes(8, SystemUuid(platform.SystemUuid))
            .Byte(24, WakeUpTypeUnknown)
            .StringField(25, platform.SystemSkuNumber)
            .StringField(26, platform.SystemFamily)
            .AppendTo(table);

        if (platform.ChassisAssetTag is { } assetTag)
        {
            new SmbiosStructure(SystemEnclosure, 0x15, ++handle)
                .Byte(5, ChassisTypeUnknown)
                .StringField(8, assetTag)
                .Byte(9, ChassisStateUnknown)
                .Byte(10, ChassisStateUnknown)
                .Byte(11, ChassisStateUnknown)
                .Byte(12, ChassisSecurityNone)
                .AppendTo(table);
        }

        if (platform.OemStrings.Count > 0)
        {
            new SmbiosStructure(OemStrings, 5, ++handle)
                .Byte(4, (byte)platform.OemStrings.Count)
                .UnindexedStrings(platform.OemStrings)
                .AppendTo(table);
        }

        new SmbiosStructure(EndOfTable, 4, ++handle).AppendTo(table);
        return table.ToArray();
    }

    private static byte[] SystemUuid(string? text)
    {
        if (text is null)
        {
            return new byte[16];
        }

        try
        {
            return SmbiosUuid.ToSmbiosBytes(text);
        }
        catch (SmbiosException e)
        {
            throw new SmbiosException("Error setting up SMBIOS table", new SmbiosException($"Failure to parse uuid: {text}", e));
        }
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
