using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Sys;

/// <summary>mbind(2) and get_mempolicy(2) through syscall(2): the policy set is the policy the kernel reports.</summary>
public class MempolicyAbiTests
{
    private const nuint Length = 2 << 20;

    [Fact]
    public void MbindToNode0IsReportedBackAsMpolBind()
    {
        var host = Map();
        try
        {
            Assert.Equal(0, Libc.GetMempolicy(out var before, stackalloc ulong[16], host));
            Assert.Equal(Libc.MpolDefault, before);

            Assert.Equal(0, Libc.Mbind(host, Length, Libc.MpolBind, [1UL], 2, Libc.MpolMfStrict | Libc.MpolMfMove));

            Span<ulong> mask = stackalloc ulong[16];
            Assert.Equal(0, Libc.GetMempolicy(out var mode, mask, host));
            Assert.Equal(Libc.MpolBind, mode);
            Assert.Equal(1UL, mask[0]);
            Assert.Equal(0UL, mask[1]);
        }
        finally
        {
            Libc.Munmap(host, Length);
        }
    }

    [Fact]
    public void MbindToANodeThatDoesNotExistFailsWithEinval()
    {
        const int node = 100;
        Assert.False(Directory.Exists($"/sys/devices/system/node/node{node}"), "this host really has NUMA node 100");
        var host = Map();
        try
        {
            ulong[] mask = [0, 1UL << (node - 64)];
            Assert.Equal(-1, Libc.Mbind(host, Length, Libc.MpolBind, mask, node + 2, Libc.MpolMfStrict | Libc.MpolMfMove));
            Assert.Equal(22, Marshal.GetLastPInvokeError());
        }
        finally
        {
            Libc.Munmap(host, Length);
        }
    }

    private static nint Map()
    {
        var host = Libc.Mmap(0, Length, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoReserve, -1, 0);
        Assert.NotEqual(Libc.MapFailed, host);
        return host;
    }
}
