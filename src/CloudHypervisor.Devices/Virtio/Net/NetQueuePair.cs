using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// One receive/transmit queue pair over one TAP queue. Transmit gathers each chain's guest buffers
/// (virtio_net_hdr_v1 then the frame) straight into writev; receive scatters one frame per chain with
/// readv, only while the driver has buffers posted. Pinned iovec arrays sized to the queue keep the
/// data path free of allocation. The header passes through unchanged: the TAP's offloads follow the
/// features the driver acknowledged, so it never hands the guest a frame it cannot take.
/// With rate limiters, as upstream, each frame is charged after it moved (one op and its length with
/// the header) and the next chain waits while the limiter is blocked: the queue parks until the wake timer.
/// </summary>
internal sealed unsafe class NetQueuePair
{
    /// <summary>Offset of num_buffers in virtio_net_hdr_v1 (the TAP does not write it).</summary>
    private const int NumBuffersOffset = 10;

    private readonly string id;
    private readonly int tapFd;
    private readonly NetCounters counters;
    private readonly Libc.IoVec[] rxVectors;
    private readonly Libc.IoVec[] txVectors;
    private readonly VirtqDescriptor[] rxDescriptors;
    private readonly RateLimiter? rxLimiter;
    private readonly RateLimiter? txLimiter;
    private readonly ThrottleWake? wake;

    public NetQueuePair(
        string id, int tapFd, ushort queueSize, NetCounters counters, RateLimiter? rxLimiter = null, RateLimiter? txLimiter = null, ThrottleWake? wake = null)
    {
        this.id = id;
        this.rxLimiter = rxLimiter;
        this.txLimiter = txLimiter;
        this.wake = wake;
        this.tapFd = tapFd;
        this.counters = counters;
        rxVectors = GC.AllocateArray<Libc.IoVec>(queueSize, pinned: true);
        txVectors = GC.AllocateArray<Libc.IoVec>(queueSize, pinned: true);
        rxDescriptors = new VirtqDescriptor[queueSize];
    }

    /// <summary>Moves frames from the TAP into posted receive chains until either runs out; returns whether any chain was used.</summary>
    public bool Receive(VirtQueue queue)
    {
        var used = false;
        while (true)
        {
            if (Parked(rxLimiter))
            {
                return used;
            }

            if (!queue.TryPop(out var chain))
            {
                // Out of buffers: ask to be notified when the driver posts more, unless it already has.
                if (queue.IsBroken || !queue.EnableNotification())
                {
                    return used;
                }

                continue;
            }

            var count = 0;
            ulong capacity = 0;
            var readable = false;
            while (chain.TryNext(out var descriptor))
            {
                if (!descriptor.IsWriteOnly)
                {
                    readable = true;
                    continue;
                }

                rxDescriptors[count] = descriptor;
                rxVectors[count++] = Vector(ref chain, descriptor);
                capacity += descriptor.Length;
            }

            if (queue.IsBroken)
            {
                return used;
            }

            if (readable || capacity < Tap.VnetHeaderSize)
            {
                Log.Warn($"{id}: Invalid receive chain from head {chain.HeadIndex}: {(readable ? "a device-readable descriptor" : "shorter than the virtio-net header")}");
                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
                continue;
            }

            nint read;
            fixed (Libc.IoVec* iov = rxVectors)
            {
                do
                {
                    read = Libc.Readv(tapFd, iov, count);
                }
                while (read < 0 && Marshal.GetLastPInvokeError() == Libc.EIntr);
            }

            if (read < 0)
            {
                // Nothing to read (or the TAP failed): the chain stays with the device for the next frame.
                var errno = Marshal.GetLastPInvokeError();
                queue.UndoPop();
                if (errno != Libc.EAgain)
                {
                    Log.Error($"{id}: Failed to read from the tap: {OsException.Describe(errno)}");
                }

                return used;
            }

            if (read < Tap.VnetHeaderSize)
            {
                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
                continue;
            }

            SetNumBuffers(ref chain, count);
            queue.AddUsed(chain.HeadIndex, (uint)read);
            counters.Received((ulong)(read - Tap.VnetHeaderSize));
            Charge(rxLimiter, (ulong)read);
            used = true;
        }
    }

    /// <summary>Writes every available transmit chain to the TAP as one frame; returns whether any chain was used.</summary>
    public bool Transmit(VirtQueue queue)
    {
        var used = false;
        do
        {
            queue.DisableNotification();
            while (true)
            {
                if (Parked(txLimiter))
                {
                    return used;
                }

                if (!queue.TryPop(out var chain))
                {
                    break;
                }

                var count = 0;
                ulong length = 0;
                var writable = false;
                while (chain.TryNext(out var descriptor))
                {
                    if (descriptor.IsWriteOnly)
                    {
                        writable = true;
                        continue;
                    }

                    if (descriptor.Length > 0)
                    {
                        txVectors[count++] = Vector(ref chain, descriptor);
                        length += descriptor.Length;
                    }
                }

                if (queue.IsBroken)
                {
                    return used;
                }

                if (writable || length < Tap.VnetHeaderSize)
                {
                    Log.Warn($"{id}: Invalid transmit chain from head {chain.HeadIndex}: {(writable ? "a device-writable descriptor" : "shorter than the virtio-net header")}");
                }
                else
                {
                    Charge(txLimiter, Send(count, length));
                }

                queue.AddUsed(chain.HeadIndex, 0);
                used = true;
            }
        }
        while (queue.EnableNotification());

        return used;
    }

    /// <summary>Whether <paramref name="limiter"/> holds the queue back; if so the wake timer is armed for when it lets go.</summary>
    private bool Parked(RateLimiter? limiter)
    {
        if (limiter is null || !limiter.IsBlocked)
        {
            return false;
        }

        wake!.ParkUntilUnblocked(limiter);
        return true;
    }

    /// <summary>Upstream's accounting: one op, then the bytes moved (header included) unless the op was refused.</summary>
    private static void Charge(RateLimiter? limiter, ulong bytes)
    {
        if (limiter is not null && limiter.Consume(1, TokenType.Ops))
        {
            limiter.Consume(bytes, TokenType.Bytes);
        }
    }

    /// <summary>Writes one frame; returns the bytes the TAP took (0 when it refused the frame).</summary>
    private ulong Send(int count, ulong length)
    {
        nint written;
        fixed (Libc.IoVec* iov = txVectors)
        {
            do
            {
                written = Libc.Writev(tapFd, iov, count);
            }
            while (written < 0 && Marshal.GetLastPInvokeError() == Libc.EIntr);
        }

        if (written < 0)
        {
            // As upstream: a frame the TAP refuses is dropped, the chain still returns to the driver.
            Log.Warn($"{id}: Failed to write to the tap: {OsException.Describe(Marshal.GetLastPInvokeError())}");
            return 0;
        }

        counters.Transmitted(length - Tap.VnetHeaderSize);
        return (ulong)written;
    }

    /// <summary>num_buffers = 1 (no VIRTIO_NET_F_MRG_RXBUF), wherever byte 10 of the chain lies.</summary>
    private void SetNumBuffers(ref DescriptorChain chain, int count)
    {
        Span<byte> value = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(value, 1);
        var offset = 0;
        var written = 0;
        for (var i = 0; i < count && written < value.Length; i++)
        {
            var buffer = chain.Buffer(rxDescriptors[i]);
            var start = NumBuffersOffset + written - offset;
            if (start < buffer.Length)
            {
                var n = Math.Min(buffer.Length - start, value.Length - written);
                value.Slice(written, n).CopyTo(buffer[start..]);
                written += n;
            }

            offset += buffer.Length;
        }
    }

    private static Libc.IoVec Vector(ref DescriptorChain chain, in VirtqDescriptor descriptor) => new()
    {
        Base = descriptor.Length == 0 ? null : Unsafe.AsPointer(ref MemoryMarshal.GetReference(chain.Buffer(descriptor))),
        Length = descriptor.Length,
    };
}
