using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Acpi;

/// <summary>Builds upstream's ACPI tables and writes them at the EBDA: RSDP, then DSDT, FACP, APIC, MCFG, [SRAT, SLIT], XSDT.</summary>
public static class AcpiTables
{
    public const ushort SleepControlPort = 0x600, PmTimerPort = 0x608;
    private const int FadtLength = 276;

    /// <summary>Writes every table and returns the RSDP address.</summary>
    public static ulong Write(GuestMemory memory, AcpiPlatform platform)
    {
        var tables = new List<byte[]> { BuildDsdt(platform) };
        var cursor = Layout.RsdpPointer + 36;
        var dsdtAddress = cursor;
        cursor += (ulong)tables[0].Length;

        var pointers = new List<ulong>();
        var pointed = new List<byte[]> { BuildFadt(dsdtAddress), BuildMadt(platform), BuildMcfg(platform) };
        if (platform.NumaNodes.Count > 0)
        {
            pointed.Add(Srat.Build(platform.NumaNodes));
            pointed.Add(Slit.Build(platform.NumaNodes));
        }

        foreach (var table in pointed)
        {
            pointers.Add(cursor);
            tables.Add(table);
            cursor += (ulong)table.Length;
        }

        var xsdt = new Sdt("XSDT", 1, "CHXSDT");
        foreach (var pointer in pointers)
        {
            xsdt.AppendU64(pointer);
        }

        var xsdtAddress = cursor;
        tables.Add(xsdt.ToArray());

        var address = Layout.RsdpPointer + 36;
        foreach (var table in tables)
        {
            memory.Write(address, table);
            address += (ulong)table.Length;
        }

        memory.Write(Layout.RsdpPointer, BuildRsdp(xsdtAddress));
        return Layout.RsdpPointer;
    }

    public static byte[] BuildRsdp(ulong xsdtAddress)
    {
        var rsdp = new byte[36];
        "RSD PTR "u8.CopyTo(rsdp);
        Sdt.Ascii(Sdt.OemId, 6).CopyTo(rsdp, 9);
        rsdp[15] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(20), 36);
        BinaryPrimitives.WriteUInt64LittleEndian(rsdp.AsSpan(24), xsdtAddress);
        rsdp[8] = Sdt.Checksum(rsdp.AsSpan(0, 20));
        rsdp[32] = Sdt.Checksum(rsdp);
        return rsdp;
    }

    public static byte[] BuildFadt(ulong dsdtAddress)
    {
        const uint HwReducedAcpi = 1u << 20, ResetRegSupported = 1u << 10, TimerValueExtended = 1u << 8;
        var fadt = new Sdt("FACP", 6, "CHFACP").PadTo(FadtLength);
        fadt.WriteU32At(112, HwReducedAcpi | ResetRegSupported | TimerValueExtended);
        fadt.WriteAt(116, Gas(1, 8, 1, SleepControlPort)); // RESET_REG
        fadt.WriteAt(128, [1]); // RESET_VALUE
        fadt.WriteAt(131, [3]); // FADT minor version
        fadt.WriteU64At(140, dsdtAddress); // X_DSDT
        fadt.WriteAt(208, Gas(1, 32, 3, PmTimerPort)); // X_PM_TMR_BLK
        fadt.WriteAt(244, Gas(1, 8, 1, SleepControlPort)); // SLEEP_CONTROL_REG
        fadt.WriteAt(256, Gas(1, 8, 1, SleepControlPort)); // SLEEP_STATUS_REG
        fadt.WriteAt(268, "CLOUDHYP"u8);
        return fadt.ToArray();
    }

    public static byte[] BuildMadt(AcpiPlatform platform)
    {
        const uint Enabled = 1, OnlineCapable = 2;
        var madt = new Sdt("APIC", 5, "CHMADT").AppendU32((uint)Layout.LapicStart).AppendU32(0);
        for (var i = 0; i < platform.MaxVcpus; i++)
        {
            madt.AppendU8(9).AppendU8(16).AppendU16(0)
                .AppendU32(platform.ApicIds[i])
                .AppendU32((i < platform.BootVcpus ? Enabled : 0) | OnlineCapable)
                .AppendU32((uint)i);
        }

        madt.AppendU8(1).AppendU8(12).AppendU8(0).AppendU8(0).AppendU32((uint)Layout.IoapicStart).AppendU32(0);
        madt.AppendU8(2).AppendU8(10).AppendU8(0).AppendU8(4).AppendU32(4).AppendU16(0);
        return madt.ToArray();
    }

    public static byte[] BuildMcfg(AcpiPlatform platform)
    {
        var mcfg = new Sdt("MCFG", 1, "CHMCFG").AppendU64(0);
        foreach (var segment in platform.PciSegments)
        {
            mcfg.AppendU64(Layout.PciMmconfigStart + ((ulong)segment.Id * Layout.PciMmconfigSegmentSize))
                .AppendU16(segment.Id).AppendU8(0).AppendU8(0).AppendU32(0);
        }

        return mcfg.ToArray();
    }

    public static byte[] BuildDsdt(AcpiPlatform platform) =>
        new Sdt("DSDT", 6, "CHDSDT").Append(Dsdt.Build(platform)).ToArray();

    /// <summary>A Generic Address Structure.</summary>
    private static byte[] Gas(byte spaceId, byte bitWidth, byte accessSize, ulong address)
    {
        var gas = new byte[12];
        gas[0] = spaceId;
        gas[1] = bitWidth;
        gas[3] = accessSize;
        BinaryPrimitives.WriteUInt64LittleEndian(gas.AsSpan(4), address);
        return gas;
    }
}
