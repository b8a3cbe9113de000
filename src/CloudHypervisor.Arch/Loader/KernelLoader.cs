using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Arch.Loader;

public static class KernelLoader
{
    /// <summary>Tries ELF (PVH) first, then bzImage, as upstream does for both --kernel and --firmware.</summary>
    public static LoadedKernel Load(ReadOnlySpan<byte> image, GuestMemory memory)
    {
        if (ElfLoader.IsElf(image))
        {
            return ElfLoader.Load(image, memory);
        }

        if (BzImageLoader.IsBzImage(image))
        {
            return BzImageLoader.Load(image, memory);
        }

        throw new KernelLoadException("Cannot load the kernel into memory", new KernelLoadException("Invalid kernel image format"));
    }
}
