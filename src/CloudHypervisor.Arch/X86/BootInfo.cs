using System.Buffers.Binary;
using CloudHypervisor.Arch.Loader;
using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Arch.X86;

/// <summary>An initramfs placed in guest memory.</summary>
public readonly record struct InitramfsLocation(ulong Address, ulong Size);

/// <summary>Writes what the guest reads at entry: GDT, IDT, command line and the PVH start info or Linux zero page.</summary>
public static class BootInfo
{
    private const uint PvhMagic = 0x336E_C578;
    private const int ZeroPageSize = 4096;
    private const int E820MaxEntries = 128;

    public static void WriteDescriptorTables(GuestMemory memory)
    {
        for (var i = 0; i < Gdt.BootEntries.Length; i++)
        {
            memory.WriteValue(Layout.BootGdtStart + ((ulong)i * 8), Gdt.BootEntries[i]);
        }

        memory.WriteValue(Layout.BootIdtStart, 0UL);
    }

    /// <summary>Writes the NUL-terminated command line at 0x20000.</summary>
    public static void WriteCommandLine(GuestMemory memory, ReadOnlySpan<byte> cmdline)
    {
        if (cmdline.Length + 1 > Layout.CmdlineMaxSize)
        {
            throw new KernelLoadException("Cannot load the kernel command line in memory",
                new KernelLoadException("Command line overflowed guest memory"));
        }

        var target = memory.GetSpan(Layout.CmdlineStart, cmdline.Length + 1);
        cmdline.CopyTo(target);
        target[^1] = 0;
    }

    /// <summary>Places the initramfs at the top of the first RAM region, page aligned, as upstream.</summary>
    public static InitramfsLocation LoadInitramfs(GuestMemory memory, ReadOnlySpan<byte> initramfs)
    {
        var first = memory.FindRegion(0) ?? throw new KernelLoadException("Cannot load the initramfs into memory");
        if ((ulong)initramfs.Length > first.Size)
        {
            throw new KernelLoadException("Cannot load the initramfs into memory",
                new KernelLoadException("Initramfs does not fit in the first RAM region"));
        }

        var address = (first.Size - (ulong)initramfs.Length) & ~0xFFFUL;
        memory.Write(address, initramfs);
        return new InitramfsLocation(address, (ulong)initramfs.Length);
    }

    public static void WritePvhStartInfo(GuestMemory memory, IReadOnlyList<MemoryMapEntry> memoryMap, InitramfsLocation? initramfs)
    {
        Span<byte> info = stackalloc byte[56];
        info.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(info, PvhMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(info[12..], initramfs is null ? 0u : 1u);
        BinaryPrimitives.WriteUInt64LittleEndian(info[16..], initramfs is null ? 0 : Layout.ModlistStart);
        BinaryPrimitives.WriteUInt64LittleEndian(info[24..], Layout.CmdlineStart);
        BinaryPrimitives.WriteUInt64LittleEndian(info[32..], Layout.RsdpPointer);
        BinaryPrimitives.WriteUInt64LittleEndian(info[40..], Layout.MemmapStart);
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)memoryMap.Count);
        memory.Write(Layout.PvhInfoStart, info);

        if (initramfs is { } module)
        {
            Span<byte> entry = stackalloc byte[32];
            entry.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(entry, module.Address);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], module.Size);
            memory.Write(Layout.ModlistStart, entry);
        }

        Span<byte> map = stackalloc byte[24];
        for (var i = 0; i < memoryMap.Count; i++)
        {
            map.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(map, memoryMap[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(map[8..], memoryMap[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(map[16..], (uint)memoryMap[i].Type);
            memory.Write(Layout.MemmapStart + ((ulong)i * 24), map);
        }
    }

    public static void WriteZeroPage(GuestMemory memory, LoadedKernel kernel, IReadOnlyList<MemoryMapEntry> memoryMap, InitramfsLocation? initramfs)
    {
        if (memoryMap.Count > E820MaxEntries)
        {
            throw new KernelLoadException("Too many e820 entries");
        }

        Span<byte> page = new byte[ZeroPageSize];
        kernel.SetupHeader.AsSpan().CopyTo(page[BzImageLoader.SetupHeaderOffset..]);
        if (page[0x210] == 0)
        {
            page[0x210] = 0xFF; // type_of_loader: "undefined" boot loader
        }

        BinaryPrimitives.WriteUInt32LittleEndian(page[0x214..], (uint)kernel.Entry); // code32_start
        BinaryPrimitives.WriteUInt32LittleEndian(page[0x228..], (uint)Layout.CmdlineStart); // cmd_line_ptr
        BinaryPrimitives.WriteUInt32LittleEndian(page[0x238..], (uint)Layout.CmdlineMaxSize); // cmdline_size
        if (initramfs is { } module)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(page[0x218..], (uint)module.Address);
            BinaryPrimitives.WriteUInt32LittleEndian(page[0x21C..], (uint)module.Size);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(page[0x070..], Layout.RsdpPointer); // acpi_rsdp_addr
        page[0x1E8] = (byte)memoryMap.Count;
        for (var i = 0; i < memoryMap.Count; i++)
        {
            var e = page.Slice(0x2D0 + (i * 20), 20);
            BinaryPrimitives.WriteUInt64LittleEndian(e, memoryMap[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], memoryMap[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)memoryMap[i].Type);
        }

        memory.Write(Layout.ZeroPageStart, page);
    }
}
