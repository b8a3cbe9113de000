using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>
/// Parses and executes virtio-blk requests (VIRTIO 1.2 §5.2.6) synchronously on the device's I/O
/// thread, with data moving straight between guest memory and the image by preadv/pwritev. Scratch
/// arrays are sized to the largest chain a queue can hold, so the data path never allocates.
/// </summary>
internal sealed unsafe class BlockRequestExecutor
{
    private const int HeaderSize = 16;
    private const int DiscardSegmentSize = 16;
    private const uint WriteZeroesFlagUnmap = 1;

    /// <summary>What <see cref="Execute"/> returns when the rate limiter held the request back: nothing was done.</summary>
    public const uint Throttled = uint.MaxValue;

    private readonly DiskImage disk;
    private readonly BlockDeviceOptions options;
    private readonly BlockCounters counters;
    private readonly VirtqDescriptor[] descriptors;
    private readonly Libc.IoVec[] iovecs;

    public BlockRequestExecutor(DiskImage disk, BlockDeviceOptions options, BlockCounters counters)
    {
        this.disk = disk;
        this.options = options;
        this.counters = counters;
        descriptors = new VirtqDescriptor[options.QueueSize];
        iovecs = GC.AllocateArray<Libc.IoVec>(options.QueueSize, pinned: true);
    }

    /// <summary>
    /// Executes one chain of <paramref name="queue"/> and returns the used length (0 when the chain was not a request at all),
    /// or <see cref="Throttled"/> when <paramref name="limiter"/> refused it: one op, plus its data bytes for IN and OUT.
    /// </summary>
    public uint Execute(VirtQueue queue, ref DescriptorChain chain, bool readOnly, bool writeback, RateLimiter? limiter = null)
    {
        var start = Stopwatch.GetTimestamp();
        var count = 0;
        while (chain.TryNext(out var descriptor))
        {
            descriptors[count++] = descriptor;
        }

        if (queue.IsBroken)
        {
            // The chain broke its queue part-way: nothing of it is executed.
            return 0;
        }

        if (count < 2)
        {
            Log.Warn($"{options.Id}: Failed to parse available descriptor chain: too few descriptors ({count})");
            return 0;
        }

        var head = descriptors[0];
        if (head.IsWriteOnly || head.Length < HeaderSize)
        {
            Log.Warn($"{options.Id}: Failed to parse available descriptor chain: the request header is write-only or short");
            return 0;
        }

        var header = chain.Buffer(head);
        var type = (BlockRequestType)BinaryPrimitives.ReadUInt32LittleEndian(header);
        var sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        var status = descriptors[count - 1];
        var data = descriptors.AsSpan(1, count - 2);
        if (ParseError(type, data, status) is { } problem)
        {
            Log.Warn($"{options.Id}: Failed to parse available descriptor chain: {problem}");
            return 0;
        }

        var statusByte = chain.Buffer(status);
        if (readOnly && type is not (BlockRequestType.In or BlockRequestType.GetId or BlockRequestType.Flush))
        {
            Log.Warn($"{options.Id}: Rejecting block request {type}: device is read-only (VIRTIO_BLK_F_RO negotiated)");
            statusByte[0] = BlockStatus.IoError;
            return 1;
        }

        if (limiter is not null && !Admit(limiter, type, data))
        {
            return Throttled;
        }

        if (type == BlockRequestType.Out && sector == 0 && options.DisableSector0Writes)
        {
            Log.Warn($"{options.Id}: Attempting to write to sector 0 on a disk without specifying image_type");
            statusByte[0] = BlockStatus.IoError;
            return 1;
        }

        var (result, length) = type switch
        {
            BlockRequestType.In or BlockRequestType.Out => Transfer(ref chain, type, sector, data, writeback, start),
            BlockRequestType.Flush => (disk.Flush() == 0 ? BlockStatus.Ok : BlockStatus.IoError, 1u),
            BlockRequestType.GetId => GetId(ref chain, data),
            BlockRequestType.Discard or BlockRequestType.WriteZeroes => DiscardOrZero(ref chain, type, data),
            _ => (BlockStatus.Unsupported, 1u),
        };
        if (result != BlockStatus.Ok && type is not (BlockRequestType.Discard or BlockRequestType.WriteZeroes))
        {
            Log.Warn($"{options.Id}: Request failed: type {(uint)type} sector {sector} status {result}");
        }

        statusByte[0] = result;
        return length;
    }

    /// <summary>Upstream's order: one op first, then the data bytes of a transfer, giving the op back if the bytes are refused.</summary>
    private static bool Admit(RateLimiter limiter, BlockRequestType type, ReadOnlySpan<VirtqDescriptor> data)
    {
        if (!limiter.Consume(1, TokenType.Ops))
        {
            return false;
        }

        if (type is not (BlockRequestType.In or BlockRequestType.Out))
        {
            return true;
        }

        ulong bytes = 0;
        foreach (var d in data)
        {
            bytes += d.Length;
        }

        if (limiter.Consume(bytes, TokenType.Bytes))
        {
            return true;
        }

        limiter.ManualReplenish(1, TokenType.Ops);
        return false;
    }

    /// <summary>Upstream's parse rules: which way each data buffer must point, and a writable status byte.</summary>
    private static string? ParseError(BlockRequestType type, ReadOnlySpan<VirtqDescriptor> data, in VirtqDescriptor status)
    {
        foreach (var d in data)
        {
            var guestReads = type is BlockRequestType.In or BlockRequestType.GetId;
            var guestWrites = type is BlockRequestType.Out or BlockRequestType.Discard or BlockRequestType.WriteZeroes;
            if (guestWrites && d.IsWriteOnly)
            {
                return "a write-only descriptor where the protocol says to read";
            }

            if (guestReads && !d.IsWriteOnly)
            {
                return "a read-only descriptor where the protocol says to write";
            }
        }

        if (data.IsEmpty && type != BlockRequestType.Flush)
        {
            return "no data descriptor";
        }

        if (!status.IsWriteOnly || status.Length < 1)
        {
            return "the status descriptor is read-only or empty";
        }

        return null;
    }

    private (byte Status, uint Length) Transfer(
        ref DescriptorChain chain, BlockRequestType type, ulong sector, ReadOnlySpan<VirtqDescriptor> data, bool writeback, long start)
    {
        ulong total = 0;
        var vectors = 0;
        foreach (var d in data)
        {
            total += d.Length;
            if (d.Length > 0)
            {
                iovecs[vectors++] = new Libc.IoVec
                {
                    Base = Unsafe.AsPointer(ref MemoryMarshal.GetReference(chain.Buffer(d))),
                    Length = d.Length,
                };
            }
        }

        if (total > 0)
        {
            var sectors = (total + DiskImage.SectorSize - 1) / DiskImage.SectorSize;
            if (sector > disk.Sectors || sectors > disk.Sectors - sector)
            {
                return (BlockStatus.IoError, 1);
            }
        }

        var offset = (long)(sector * DiskImage.SectorSize);
        var iov = iovecs.AsSpan(0, vectors);
        if (type == BlockRequestType.In)
        {
            var read = vectors == 0 ? 0 : disk.ReadVectored(iov, offset);
            if (read < 0)
            {
                return (BlockStatus.IoError, 1);
            }

            counters.CompletedRead(total, ElapsedMicros(start));
            return (BlockStatus.Ok, (uint)read + 1);
        }

        if ((vectors > 0 && disk.WriteVectored(iov, offset) < 0) || (!writeback && disk.Flush() != 0))
        {
            return (BlockStatus.IoError, 1);
        }

        counters.CompletedWrite(total, ElapsedMicros(start));
        return (BlockStatus.Ok, 1);
    }

    private (byte Status, uint Length) GetId(ref DescriptorChain chain, ReadOnlySpan<VirtqDescriptor> data)
    {
        var serial = options.Serial;
        if (data.Length != 1 || data[0].Length < serial.Length)
        {
            return (BlockStatus.IoError, 1);
        }

        serial.CopyTo(chain.Buffer(data[0]));
        return (BlockStatus.Ok, (uint)serial.Length + 1);
    }

    /// <summary>One segment (upstream's max_discard_seg / max_write_zeroes_seg is 1): sector, num_sectors, flags.</summary>
    private (byte Status, uint Length) DiscardOrZero(ref DescriptorChain chain, BlockRequestType type, ReadOnlySpan<VirtqDescriptor> data)
    {
        if (data.Length != 1 || data[0].Length != DiscardSegmentSize)
        {
            Log.Warn($"{options.Id}: Request failed: {type} needs exactly one {DiscardSegmentSize}-byte segment");
            return (BlockStatus.IoError, 1);
        }

        var segment = chain.Buffer(data[0]);
        var sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
        var sectors = BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(segment[12..]);
        var allowed = type == BlockRequestType.WriteZeroes ? WriteZeroesFlagUnmap : 0;
        if ((flags & ~allowed) != 0)
        {
            Log.Warn($"{options.Id}: Unsupported flags 0x{flags:x} in {type} request");
            return (BlockStatus.Unsupported, 1);
        }

        if (sector == 0 && options.DisableSector0Writes)
        {
            Log.Warn($"{options.Id}: Attempting to write to sector 0 on a disk without specifying image_type");
            return (BlockStatus.IoError, 1);
        }

        if (sector > disk.Sectors || sectors > disk.Sectors - sector)
        {
            Log.Warn($"{options.Id}: Request failed: {type} of {sectors} sectors at {sector} is beyond the disk's {disk.Sectors}");
            return (BlockStatus.IoError, 1);
        }

        var offset = (long)sector * DiskImage.SectorSize;
        var length = (long)sectors * DiskImage.SectorSize;
        var unmap = type == BlockRequestType.Discard || (flags & WriteZeroesFlagUnmap) != 0;
        var result = unmap ? disk.PunchHole(offset, length) : disk.ZeroRange(offset, length);
        if (result != 0)
        {
            Log.Warn($"{options.Id}: Request failed: {type} of {sectors} sectors at {sector}: {Sys.Errors.OsException.Describe(-result)}");
            return (BlockStatus.IoError, 1);
        }

        return (BlockStatus.Ok, 1);
    }

    private static ulong ElapsedMicros(long start) => (ulong)(Stopwatch.GetElapsedTime(start).Ticks / TimeSpan.TicksPerMicrosecond);
}
