using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Pmem;

/// <summary>
/// The file behind a virtio-pmem device, mapped into the VMM to become guest memory: shared and
/// writable, or with <c>discard_writes</c> a read-only file mapped private, so guest writes stay in
/// copy-on-write pages. The size is the given one or the file's, and must be a multiple of 2 MiB.
/// </summary>
public sealed class PmemBacking : IDisposable
{
    /// <summary>Upstream's alignment for the range and its size (so the guest can use huge pages).</summary>
    public const ulong Alignment = 2UL << 20;

    private const int OTmpFile = 0x410000;
    private SafeFd? file;

    private PmemBacking(SafeFd file, ulong size, nint host)
    {
        this.file = file;
        Size = size;
        Host = host;
    }

    public ulong Size { get; }

    /// <summary>Where the mapping starts in the VMM's address space.</summary>
    public nint Host { get; private set; }

    public static PmemBacking Open(string path, ulong? size, bool discardWrites)
    {
        var isDirectory = Directory.Exists(path);
        if (isDirectory && size is null)
        {
            throw new VirtioException("Trying to use a directory for pmem but no size specified");
        }

        SafeFd fd;
        try
        {
            fd = SafeFd.Open(path, (discardWrites ? Libc.ORdOnly : Libc.ORdWr) | Libc.OCloExec | (isDirectory ? OTmpFile : 0));
        }
        catch (OsException e)
        {
            throw new VirtioException("Cannot open persistent memory file", e);
        }

        try
        {
            var length = size ?? FileLength(fd);
            if (isDirectory && Libc.Ftruncate(fd.Fd, (long)length) != 0)
            {
                throw new VirtioException("Cannot set persistent memory file size", OsException.Last());
            }

            if (length == 0 || length % Alignment != 0)
            {
                throw new VirtioException("Trying to use a size that is not multiple of 2MiB");
            }

            var protection = discardWrites ? Libc.ProtRead : Libc.ProtRead | Libc.ProtWrite;
            var flags = Libc.MapNoReserve | (discardWrites ? Libc.MapPrivate : Libc.MapShared);
            var host = Libc.Mmap(0, (nuint)length, protection, flags, fd.Fd, 0);
            if (host == Libc.MapFailed)
            {
                throw new VirtioException("Failed to create a new MmapRegion instance", OsException.Last());
            }

            return new PmemBacking(fd, length, host);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Hands the file descriptor over (to the device, which fsyncs it); the mapping stays here.</summary>
    public SafeFd TakeFile()
    {
        var taken = file ?? throw new ObjectDisposedException(nameof(PmemBacking));
        file = null;
        return taken;
    }

    public void Dispose()
    {
        if (Host != 0)
        {
            Libc.Munmap(Host, (nuint)Size);
            Host = 0;
        }

        file?.Dispose();
        file = null;
    }

    private static ulong FileLength(SafeFd fd)
    {
        var end = Libc.Lseek(fd.Fd, 0, Libc.SeekEnd);
        return end >= 0 ? (ulong)end : throw new VirtioException("Cannot set persistent memory file size", OsException.Last());
    }
}
