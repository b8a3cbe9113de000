using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Devices.Virtio.Net;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Sys;

/// <summary>struct ifreq and the TUN/SIOC ioctl numbers match the x86-64 Linux headers.</summary>
public class TunAbiTests
{
    [Fact]
    public void IfReqIsFortyBytesWithTheUnionAfterTheName()
    {
        Assert.Equal(40, Unsafe.SizeOf<Libc.IfReq>());
        Assert.Equal(16, (int)Marshal.OffsetOf<Libc.IfReq>(nameof(Libc.IfReq.Union)));
    }

    [Fact]
    public void IoctlNumbersMatchLinuxIfTunH()
    {
        Assert.Equal(0x400454CAUL, Libc.TunSetIff);
        Assert.Equal(0x400454D0UL, Libc.TunSetOffload);
        Assert.Equal(0x800454D2UL, Libc.TunGetIff);
        Assert.Equal(0x400454D8UL, Libc.TunSetVnetHdrSz);
    }

    [Fact]
    public void IfReqFieldsLandWhereTheKernelReadsThem()
    {
        var request = Libc.IfReq.For("vmtap%d");
        request.Flags = unchecked((short)0x5002);
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Libc.IfReq>(in request));
        Assert.Equal("vmtap%d\0"u8.ToArray(), bytes[..8].ToArray());
        Assert.Equal(new byte[] { 0x02, 0x50 }, bytes[16..18].ToArray());
        Assert.Equal("vmtap%d", request.InterfaceName);

        request.SetInetAddress([192, 168, 249, 1]);
        bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Libc.IfReq>(in request));
        Assert.Equal(new byte[] { 2, 0, 0, 0, 192, 168, 249, 1 }, bytes[16..24].ToArray());

        request.SetHardwareAddress([0x2e, 1, 2, 3, 4, 5]);
        var mac = new byte[6];
        request.GetHardwareAddress(mac);
        Assert.Equal(new byte[] { 0x2e, 1, 2, 3, 4, 5 }, mac);
        Assert.Throws<ArgumentException>(() => Libc.IfReq.For("a-name-of-16-chr"));
    }

    [Fact]
    public void ADescriptorThatIsNotATapIsRefusedClearly()
    {
        using var file = SafeFd.Open("/dev/null", Libc.ORdWr);

        var e = Assert.Throws<TapException>(() => Tap.FromFd(file.Fd));

        Assert.Equal($"File descriptor {file.Fd} is not a TAP device", e.Message);
    }
}
