using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Loader;

/// <summary>Loads an ELF64 image's PT_LOAD segments at their physical addresses; the entry comes from the PVH note.</summary>
public static class ElfLoader
{
    private const uint PtLoad = 1, PtNote = 4;
    private const uint XenElfnotePhys32Entry = 18;

    public static bool IsElf(ReadOnlySpan<byte> image) =>
        image.Length >= 64 && image[0] == 0x7F && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F';

    public static LoadedKernel Load(ReadOnlySpan<byte> image, GuestMemory memory)
    {
        if (image[4] != 2 || image[5] != 1)
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid ELF class or endianness"));
        }

        var entry = BinaryPrimitives.ReadUInt64LittleEndian(image[24..]);
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(image[32..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(image[56..]);
        if (entry < Layout.HighRamStart)
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid entry address"));
        }

        if (phentsize < 56 || phoff + ((ulong)phnum * phentsize) > (ulong)image.Length)
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid program header"));
        }

        ulong? pvhEntry = null;
        ulong kernelEnd = 0;
        for (var i = 0; i < phnum; i++)
        {
            var ph = image.Slice((int)phoff + (i * phentsize), phentsize);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var paddr = BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]);
            var filesz = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            var memsz = BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]);
            if (offset + filesz > (ulong)image.Length)
            {
                throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Segment exceeds the image"));
            }

            var contents = image.Slice((int)offset, (int)filesz);
            if (type == PtLoad && filesz != 0)
            {
                if (!memory.IsValidRange(paddr, Math.Max(memsz, filesz)))
                {
                    throw new KernelLoadException(
                        "Cannot load the kernel into memory",
                        new KernelLoadException($"Segment at 0x{paddr:x} does not fit in guest memory"));
                }

                memory.Write(paddr, contents);
                kernelEnd = Math.Max(kernelEnd, paddr + memsz);
            }
            else if (type == PtNote)
            {
                pvhEntry ??= FindPvhEntry(contents);
            }
        }

        if (pvhEntry is null)
        {
            throw new KernelLoadException("Kernel lacks PVH header");
        }

        return new LoadedKernel(BootProtocol.Pvh, pvhEntry.Value, kernelEnd, null);
    }

    private static ulong? FindPvhEntry(ReadOnlySpan<byte> notes)
    {
        while (notes.Length >= 12)
        {
            var nameSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes);
            var descSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            var nameEnd = 12 + Align4(nameSize);
            var descEnd = nameEnd + Align4(descSize);
            if (nameSize < 0 || descSize < 0 || descEnd > notes.Length)
            {
                return null;
            }

            var name = notes.Slice(12, nameSize).TrimEnd((byte)0);
            if (type == XenElfnotePhys32Entry && name.SequenceEqual("Xen"u8))
            {
                var desc = notes.Slice(nameEnd, descSize);
                return descSize >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(desc) :
                    descSize >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(desc) : null;
            }

            notes = notes[descEnd..];
        }

        return null;
    }

    private static int Align4(int value) => (value + 3) & ~3;
}
