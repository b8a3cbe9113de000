using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Loader;

/// <summary>Loads the protected-mode part of a Linux bzImage at code32_start.</summary>
public static class BzImageLoader
{
    /// <summary>struct setup_header spans boot_params offsets 0x1F1..0x26C.</summary>
    public const int SetupHeaderOffset = 0x1F1;
    public const int SetupHeaderEnd = 0x26C;
    private const int HeaderMagicOffset = 0x202, VersionOffset = 0x206, LoadFlagsOffset = 0x211,
        Code32StartOffset = 0x214, SetupSectsOffset = 0x1F1;
    private const byte LoadedHigh = 0x01;

    public static bool IsBzImage(ReadOnlySpan<byte> image) =>
        image.Length >= SetupHeaderEnd && image.Slice(HeaderMagicOffset, 4).SequenceEqual("HdrS"u8);

    public static LoadedKernel Load(ReadOnlySpan<byte> image, GuestMemory memory)
    {
        if (!IsBzImage(image))
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid bzImage header"));
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(image[VersionOffset..]);
        if (version < 0x200 || (image[LoadFlagsOffset] & LoadedHigh) == 0)
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid bzImage"));
        }

        int setupSects = image[SetupSectsOffset];
        if (setupSects == 0)
        {
            setupSects = 4;
        }

        var kernelOffset = (setupSects + 1) * 512;
        var loadAddress = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(image[Code32StartOffset..]);
        if (loadAddress < Layout.HighRamStart || kernelOffset >= image.Length)
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid kernel start address"));
        }

        var kernel = image[kernelOffset..];
        if (!memory.IsValidRange(loadAddress, (ulong)kernel.Length))
        {
            throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Kernel does not fit in guest memory"));
        }

        memory.Write(loadAddress, kernel);
        var header = image[SetupHeaderOffset..SetupHeaderEnd].ToArray();
        return new LoadedKernel(BootProtocol.LinuxBoot, loadAddress, loadAddress + (ulong)kernel.Length, header);
    }
}
