using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>
/// A packet's data as guest buffers (pointers into mapped guest RAM), for readv/writev straight between
/// a host socket and guest memory. The pinned vector array is allocated once per device and reused.
/// </summary>
internal sealed unsafe class GuestIoVectors
{
    private readonly Libc.IoVec[] vectors;

    public GuestIoVectors(int capacity) => vectors = GC.AllocateArray<Libc.IoVec>(capacity, pinned: true);

    public int Count { get; private set; }

    /// <summary>Bytes the vectors cover.</summary>
    public ulong Total { get; private set; }

    public void Clear()
    {
        Count = 0;
        Total = 0;
    }

    /// <summary>Appends a buffer; false when the array is full.</summary>
    public bool TryAdd(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return true;
        }

        if (Count == vectors.Length)
        {
            return false;
        }

        vectors[Count++] = new Libc.IoVec
        {
            Base = System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer)),
            Length = (nuint)buffer.Length,
        };
        Total += (ulong)buffer.Length;
        return true;
    }

    /// <summary>readv into at most the first <paramref name="max"/> bytes; the result of readv (-1 with errno set on failure).</summary>
    public nint ReadFrom(int fd, ulong max) => Transfer(fd, max, read: true);

    /// <summary>writev of every byte covered; the result of writev.</summary>
    public nint WriteTo(int fd) => Transfer(fd, Total, read: false);

    /// <summary>Copies the covered bytes from <paramref name="offset"/> into <paramref name="destination"/> (which must fit).</summary>
    public void CopyTo(ulong offset, Span<byte> destination)
    {
        var copied = 0;
        for (var i = 0; i < Count && copied < destination.Length; i++)
        {
            var length = (ulong)vectors[i].Length;
            if (offset >= length)
            {
                offset -= length;
                continue;
            }

            var n = (int)Math.Min(length - offset, (ulong)(destination.Length - copied));
            new ReadOnlySpan<byte>((byte*)vectors[i].Base + offset, n).CopyTo(destination[copied..]);
            copied += n;
            offset = 0;
        }
    }

    private nint Transfer(int fd, ulong max, bool read)
    {
        // Only the vectors within `max` take part; the last one is shortened for the call.
        var count = 0;
        ulong covered = 0;
        while (count < Count && covered < max)
        {
            covered += vectors[count++].Length;
        }

        if (count == 0)
        {
            return 0;
        }

        var last = vectors[count - 1].Length;
        var excess = covered > max ? covered - max : 0;
        vectors[count - 1].Length = last - (nuint)excess;
        try
        {
            fixed (Libc.IoVec* iov = vectors)
            {
                nint result;
                do
                {
                    result = read ? Libc.Readv(fd, iov, count) : Send(fd, iov, count);
                }
                while (result < 0 && Marshal.GetLastPInvokeError() == Libc.EIntr);
                return result;
            }
        }
        finally
        {
            vectors[count - 1].Length = last;
        }
    }

    /// <summary>writev for a socket, without SIGPIPE when the peer has gone (sendmsg with MSG_NOSIGNAL).</summary>
    public static nint Send(int fd, Libc.IoVec* iov, int count)
    {
        var message = new Libc.MsgHdr { Iov = iov, IovLength = (nuint)count };
        return Libc.SendMsg(fd, &message, Libc.MsgNoSignal);
    }
}
