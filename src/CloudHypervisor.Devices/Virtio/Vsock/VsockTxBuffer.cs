using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>
/// Guest data a connection accepted but its host socket could not take yet: a 64 KiB ring (the
/// buf_alloc the device advertises, so a guest that honours its credit never overflows it), allocated
/// the first time it is needed and flushed when the socket becomes writable again.
/// </summary>
internal sealed unsafe class VsockTxBuffer
{
    public const int Capacity = 64 * 1024;

    private byte[]? ring;
    private ulong pushed;
    private ulong flushed;

    public int Length => (int)(pushed - flushed);

    public bool IsEmpty => pushed == flushed;

    /// <summary>Appends <paramref name="length"/> bytes of <paramref name="source"/> from <paramref name="offset"/>; false when they do not fit.</summary>
    public bool TryPush(GuestIoVectors source, ulong offset, int length)
    {
        if (length > Capacity - Length)
        {
            return false;
        }

        ring ??= GC.AllocateArray<byte>(Capacity, pinned: true);
        var start = (int)(pushed % Capacity);
        var first = Math.Min(length, Capacity - start);
        source.CopyTo(offset, ring.AsSpan(start, first));
        source.CopyTo(offset + (ulong)first, ring.AsSpan(0, length - first));
        pushed += (ulong)length;
        return true;
    }

    /// <summary>Writes as much as the socket takes; the byte count, 0 when it would block, or -1 with errno set on failure.</summary>
    public nint FlushTo(int fd)
    {
        if (IsEmpty || ring is null)
        {
            return 0;
        }

        var start = (int)(flushed % Capacity);
        var first = Math.Min(Length, Capacity - start);
        var vectors = stackalloc Libc.IoVec[2];
        fixed (byte* data = ring)
        {
            vectors[0] = new Libc.IoVec { Base = data + start, Length = (nuint)first };
            vectors[1] = new Libc.IoVec { Base = data, Length = (nuint)(Length - first) };
            nint written;
            do
            {
                written = GuestIoVectors.Send(fd, vectors, Length > first ? 2 : 1);
            }
            while (written < 0 && Marshal.GetLastPInvokeError() == Libc.EIntr);

            if (written < 0)
            {
                return Marshal.GetLastPInvokeError() == Libc.EAgain ? 0 : -1;
            }

            flushed += (ulong)written;
            return written;
        }
    }
}
