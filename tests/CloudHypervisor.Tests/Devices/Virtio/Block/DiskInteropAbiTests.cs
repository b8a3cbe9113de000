using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>The structs the disk code hands to glibc match x86-64 Linux, and stat sees what .NET sees.</summary>
public sealed class DiskInteropAbiTests
{
    [Fact]
    public void StructLayoutsMatchLinuxHeaders()
    {
        Assert.Equal(144, Unsafe.SizeOf<Libc.Stat>());
        Assert.Equal(24, (int)Marshal.OffsetOf<Libc.Stat>(nameof(Libc.Stat.Mode)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Libc.Stat>(nameof(Libc.Stat.RDev)));
        Assert.Equal(48, (int)Marshal.OffsetOf<Libc.Stat>(nameof(Libc.Stat.Size)));
        Assert.Equal(64, (int)Marshal.OffsetOf<Libc.Stat>(nameof(Libc.Stat.Blocks)));
        Assert.Equal(16, Unsafe.SizeOf<Libc.IoVec>());
    }

    [Fact]
    public unsafe void StatReportsTheFilesSizeAndType()
    {
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, new byte[12345]);
        try
        {
            Libc.Stat st;
            Assert.Equal(0, Libc.StatPath(path, &st));
            Assert.Equal(12345, st.Size);
            Assert.Equal(Libc.SIfReg, st.Mode & Libc.SIfMt);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
