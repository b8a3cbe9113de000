using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Sys;

/// <summary>Socket structs match the x86-64 glibc ABI, and descriptors really travel over SCM_RIGHTS.</summary>
public class SocketAbiTests
{
    [Fact]
    public void StructSizesMatchLinuxHeaders()
    {
        Assert.Equal(110, Unsafe.SizeOf<Libc.SockAddrUn>());
        Assert.Equal(16, Unsafe.SizeOf<Libc.IoVec>());
        Assert.Equal(56, Unsafe.SizeOf<Libc.MsgHdr>());
        Assert.Equal(16, Unsafe.SizeOf<Libc.CMsgHdr>());
        Assert.Equal(32, Unsafe.SizeOf<Libc.Flock64>());
    }

    [Theory]
    [InlineData(nameof(Libc.MsgHdr.NameLength), 8)]
    [InlineData(nameof(Libc.MsgHdr.Iov), 16)]
    [InlineData(nameof(Libc.MsgHdr.IovLength), 24)]
    [InlineData(nameof(Libc.MsgHdr.Control), 32)]
    [InlineData(nameof(Libc.MsgHdr.ControlLength), 40)]
    [InlineData(nameof(Libc.MsgHdr.Flags), 48)]
    public void MsgHdrFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Libc.MsgHdr>(field));

    [Theory]
    [InlineData(nameof(Libc.CMsgHdr.Level), 8)]
    [InlineData(nameof(Libc.CMsgHdr.Type), 12)]
    public void CMsgHdrFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Libc.CMsgHdr>(field));

    [Theory]
    [InlineData(nameof(Libc.Flock64.Whence), 2)]
    [InlineData(nameof(Libc.Flock64.Start), 8)]
    [InlineData(nameof(Libc.Flock64.Length), 16)]
    [InlineData(nameof(Libc.Flock64.Pid), 24)]
    public void FlockFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Libc.Flock64>(field));

    [Fact]
    public void SockAddrUnPathFollowsFamily()
    {
        var address = Libc.SockAddrUn.ForPath("/tmp/x.sock", out var length);
        Assert.Equal(2, (int)Unsafe.ByteOffset(ref Unsafe.As<Libc.SockAddrUn, byte>(ref address), ref address.Path[0]));
        Assert.Equal(Libc.AfUnix, address.Family);
        Assert.Equal(2 + 11 + 1, (int)length);
        Assert.Equal((byte)'/', address.Path[0]);
        Assert.Equal(0, address.Path[11]);
    }

    [Fact]
    public void SockAddrUnRejectsPathsThatDoNotFit()
    {
        Assert.Throws<ArgumentException>(() => Libc.SockAddrUn.ForPath(new string('a', 108), out _));
        Libc.SockAddrUn.ForPath(new string('a', 107), out var length);
        Assert.Equal(110, (int)length);
    }

    [Fact]
    public void ControlMessageArithmeticMatchesCMacros()
    {
        Assert.Equal(24, Libc.CMsgSpace(sizeof(int)));
        Assert.Equal(20, Libc.CMsgLen(sizeof(int)));
        Assert.Equal(24, Libc.CMsgSpace(2 * sizeof(int)));
        Assert.Equal(32, Libc.CMsgSpace(3 * sizeof(int)));
        Assert.Equal(16 + 1016, Libc.CMsgSpace(253 * sizeof(int)));
    }

    [Fact]
    public void DescriptorsTravelWithDataOverSocketPair()
    {
        var (left, right) = SocketPair();
        using (left)
        using (right)
        using (var first = new EventFd())
        using (var second = new EventFd())
        {
            first.Write(7);
            second.Write(9);
            Assert.Equal(5, Libc.SendWithFds(left, "hello"u8, [first.Fd, second.Fd]));

            var buffer = new byte[16];
            var fds = new int[4];
            var count = Libc.ReceiveWithFds(right, buffer, fds, out var fdCount);
            Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, count));
            Assert.Equal(2, fdCount);
            using var receivedFirst = new SafeFd(fds[0]);
            using var receivedSecond = new SafeFd(fds[1]);
            Assert.NotEqual(first.Fd, fds[0]);
            Assert.Equal(7UL, ReadCounter(fds[0]));
            Assert.Equal(9UL, ReadCounter(fds[1]));
            Assert.Equal(1, Libc.Fcntl(fds[0], 1 /* F_GETFD */, 0) & 1 /* FD_CLOEXEC */);
        }
    }

    [Fact]
    public void MaximumDescriptorCountTravelsInOneMessage()
    {
        var (left, right) = SocketPair();
        using (left)
        using (right)
        using (var eventFd = new EventFd())
        {
            var sent = new int[Libc.MaxFdsPerMessage];
            Array.Fill(sent, eventFd.Fd);
            Assert.Equal(1, Libc.SendWithFds(left, "x"u8, sent));

            var received = new List<int>();
            Assert.Equal(1, Libc.ReceiveWithFds(right.Fd, new byte[4], received));
            Assert.Equal(Libc.MaxFdsPerMessage, received.Count);
            foreach (var fd in received)
            {
                Libc.Close(fd);
            }
        }
    }

    [Fact]
    public void DescriptorsBeyondTheReceiversRoomAreClosedNotLeaked()
    {
        var (left, right) = SocketPair();
        using (left)
        using (right)
        using (var eventFd = new EventFd())
        {
            Libc.SendWithFds(left, "x"u8, [eventFd.Fd, eventFd.Fd, eventFd.Fd]);
            var fds = new int[1];
            Libc.ReceiveWithFds(right, new byte[4], fds, out var fdCount);
            Assert.Equal(1, fdCount);
            Libc.Close(fds[0]);
        }
    }

    [Fact]
    public void NonBlockingReceiveWithNothingPendingReturnsMinusOne()
    {
        var (left, right) = SocketPair(Libc.SockNonBlock);
        using (left)
        using (right)
        {
            Assert.Equal(-1, Libc.ReceiveWithFds(right, new byte[4], new int[1], out var fdCount));
            Assert.Equal(0, fdCount);
            left.Dispose();
            Assert.Equal(0, Libc.ReceiveWithFds(right, new byte[4], new int[1], out _));
        }
    }

    [Fact]
    public void SendingDescriptorsWithoutDataIsRefused() =>
        Assert.Throws<ArgumentException>(() => Libc.SendWithFds(-1, default, [0]));

    [Fact]
    public void SendOnClosedPeerReportsEpipeInsteadOfRaisingSigpipe()
    {
        var (left, right) = SocketPair();
        using (left)
        {
            right.Dispose();
            var error = Assert.Throws<OsException>(() => Libc.SendWithFds(left, "x"u8, default));
            Assert.Equal(Libc.EPipe, error.Errno);
        }
    }

    internal static unsafe (SafeFd Left, SafeFd Right) SocketPair(int extraFlags = 0)
    {
        var fds = stackalloc int[2];
        if (Libc.SocketPair(Libc.AfUnix, Libc.SockStream | Libc.SockCloExec | extraFlags, 0, fds) != 0)
        {
            throw OsException.Last();
        }

        return (new SafeFd(fds[0]), new SafeFd(fds[1]));
    }

    private static unsafe ulong ReadCounter(int fd)
    {
        ulong value = 0;
        Assert.Equal(8, (int)Libc.Read(fd, (byte*)&value, 8));
        return value;
    }
}
