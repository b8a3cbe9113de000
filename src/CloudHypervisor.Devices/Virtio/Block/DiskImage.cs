using System.Runtime.InteropServices;
using System.Text;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// A raw disk image (regular file or block device) opened for the guest. With <c>direct</c> the data
/// descriptor is O_DIRECT; requests whose buffers or offset are not sector-aligned go through a second,
/// buffered descriptor instead of failing.
/// </summary>
public sealed unsafe class DiskImage : IDisposable
{
    public const int SectorSize = 512;
    public const int SerialLength = 20;

    private readonly SafeFd file;
    private readonly SafeFd? direct;

    private DiskImage(string path, SafeFd file, SafeFd? direct, bool readOnly)
    {
        Path = path;
        this.file = file;
        this.direct = direct;
        ReadOnly = readOnly;
        Libc.Stat st;
        if (Libc.FStat(file.Fd, &st) != 0)
        {
            throw OsException.Last();
        }

        IsBlockDevice = (st.Mode & Libc.SIfMt) == Libc.SIfBlk;
        var end = Libc.Lseek(file.Fd, 0, Libc.SeekEnd);
        if (end < 0)
        {
            throw OsException.Last();
        }

        LogicalSize = (ulong)end;
        PhysicalSize = (ulong)st.Blocks * 512;
        SupportsSparseOperations = !IsBlockDevice && ProbeSparse();
    }

    public string Path { get; }

    public bool ReadOnly { get; }

    public bool IsBlockDevice { get; }

    public ulong LogicalSize { get; }

    /// <summary>Bytes allocated on disk (st_blocks × 512).</summary>
    public ulong PhysicalSize { get; }

    /// <summary>Whether hole punching or range zeroing works on this file (probed past its end, as upstream does).</summary>
    public bool SupportsSparseOperations { get; }

    public ulong Sectors => LogicalSize / SectorSize;

    /// <summary>Opens <paramref name="path"/> read-write, or read-only, optionally with O_DIRECT.</summary>
    public static DiskImage Open(string path, bool readOnly, bool useDirect)
    {
        var flags = readOnly ? Libc.ORdOnly : Libc.ORdWr;
        SafeFd? file = null;
        SafeFd? direct = null;
        try
        {
            file = SafeFd.Open(path, flags);
            direct = useDirect ? SafeFd.Open(path, flags | Libc.ODirect) : null;
            return new DiskImage(path, file, direct, readOnly);
        }
        catch (OsException e)
        {
            file?.Dispose();
            direct?.Dispose();
            throw new DiskImageException($"Failed to open disk image {path}", e);
        }
    }

    /// <summary>The image's format from its magic bytes.</summary>
    public DiskImageFormat DetectFormat()
    {
        Span<byte> head = stackalloc byte[8];
        Span<byte> tail = stackalloc byte[8];
        var headRead = ReadAt(head, 0);
        var tailRead = LogicalSize >= SectorSize ? ReadAt(tail, (long)LogicalSize - SectorSize) : 0;
        return DiskImageFormats.Detect(head[..Math.Max(headRead, 0)], tail[..Math.Max(tailRead, 0)]);
    }

    /// <summary>
    /// Takes the advisory OFD lock upstream takes: shared for a read-only disk, exclusive otherwise; over
    /// [0, max(logical, physical size)) or, with <paramref name="wholeFile"/>, the whole file.
    /// </summary>
    public void Lock(bool wholeFile)
    {
        var request = new Libc.Flock64
        {
            Type = ReadOnly ? Libc.FRdLck : Libc.FWrLck,
            Whence = 0,
            Start = 0,
            Length = wholeFile ? 0 : (long)Math.Max(LogicalSize, PhysicalSize),
        };
        while (Libc.FcntlLock(file.Fd, Libc.FOfdSetLk, &request) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EIntr)
            {
                continue;
            }

            var lockType = ReadOnly ? "Read" : "Write";
            Exception cause = errno is Libc.EAgain or 13 ? new DiskImageException("The file is already locked") : new OsException(errno);
            throw new DiskImageException($"Failed to get {lockType} lock for disk image: {Path}", cause);
        }
    }

    /// <summary>
    /// Upstream's default serial: st_dev, st_rdev and st_ino of the path as decimal digits, cut to 20
    /// bytes and zero-padded; all zeros when the path cannot be stat'ed.
    /// </summary>
    public static byte[] DefaultSerial(string path)
    {
        var serial = new byte[SerialLength];
        Libc.Stat st;
        if (Libc.StatPath(path, &st) == 0)
        {
            var id = Encoding.ASCII.GetBytes($"{st.Dev}{st.RDev}{st.Ino}");
            id.AsSpan(0, Math.Min(id.Length, SerialLength)).CopyTo(serial);
        }

        return serial;
    }

    /// <summary>Reads into <paramref name="iov"/> at <paramref name="offset"/> until full or end of file; bytes, or −errno.</summary>
    public long ReadVectored(Span<Libc.IoVec> iov, long offset) => Transfer(iov, offset, write: false);

    /// <summary>Writes all of <paramref name="iov"/> at <paramref name="offset"/>; bytes, or −errno.</summary>
    public long WriteVectored(Span<Libc.IoVec> iov, long offset) => Transfer(iov, offset, write: true);

    /// <summary>fsync; 0 or −errno.</summary>
    public int Flush()
    {
        var status = Libc.Fsync(file.Fd) == 0 ? 0 : -Marshal.GetLastPInvokeError();
        return status;
    }

    /// <summary>Deallocates the range (reads back as zeros); 0 or −errno.</summary>
    public int PunchHole(long offset, long length) =>
        Fallocate(Libc.FallocFlPunchHole | Libc.FallocFlKeepSize, offset, length);

    /// <summary>Zeroes the range, keeping it allocated; 0 or −errno.</summary>
    public int ZeroRange(long offset, long length) =>
        Fallocate(Libc.FallocFlZeroRange | Libc.FallocFlKeepSize, offset, length);

    public void Dispose()
    {
        direct?.Dispose();
        file.Dispose();
    }

    private int Fallocate(int mode, long offset, long length)
    {
        if (length == 0)
        {
            return 0;
        }

        while (Libc.Fallocate(file.Fd, mode, offset, length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EIntr)
            {
                return -errno;
            }
        }

        return 0;
    }

    private bool ProbeSparse()
    {
        var end = (long)LogicalSize;
        return Libc.Fallocate(file.Fd, Libc.FallocFlPunchHole | Libc.FallocFlKeepSize, end, 1) == 0
            || Libc.Fallocate(file.Fd, Libc.FallocFlZeroRange | Libc.FallocFlKeepSize, end, 1) == 0;
    }

    private int ReadAt(Span<byte> buffer, long offset)
    {
        fixed (byte* start = buffer)
        {
            var iov = new Libc.IoVec { Base = start, Length = (nuint)buffer.Length };
            return (int)Transfer(new Span<Libc.IoVec>(&iov, 1), offset, write: false);
        }
    }

    /// <summary>Moves the whole vector, resuming after short transfers; consumes <paramref name="iov"/>.</summary>
    private long Transfer(Span<Libc.IoVec> iov, long offset, bool write)
    {
        var fd = direct is not null && IsAligned(iov, offset) ? direct.Fd : file.Fd;
        long total = 0;
        var first = 0;
        while (first < iov.Length)
        {
            if (iov[first].Length == 0)
            {
                first++;
                continue;
            }

            nint n;
            fixed (Libc.IoVec* vector = iov[first..])
            {
                var count = Math.Min(iov.Length - first, 1024);
                n = write ? Libc.Pwritev(fd, vector, count, offset + total) : Libc.Preadv(fd, vector, count, offset + total);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EIntr)
                {
                    continue;
                }

                return -errno;
            }

            if (n == 0)
            {
                // End of file on a read; a write making no progress is an error.
                return write ? -5 : total;
            }

            total += n;
            var left = (nuint)n;
            while (left > 0 && first < iov.Length)
            {
                if (iov[first].Length <= left)
                {
                    left -= iov[first].Length;
                    first++;
                }
                else
                {
                    iov[first].Base = (byte*)iov[first].Base + left;
                    iov[first].Length -= left;
                    left = 0;
                }
            }
        }

        return total;
    }

    private static bool IsAligned(Span<Libc.IoVec> iov, long offset)
    {
        if (offset % SectorSize != 0)
        {
            return false;
        }

        foreach (ref readonly var v in iov)
        {
            if ((nuint)v.Base % SectorSize != 0 || v.Length % SectorSize != 0)
            {
                return false;
            }
        }

        return true;
    }
}
