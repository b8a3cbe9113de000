using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Sys;

/// <summary>The Landlock structs and constants must match linux/landlock.h on x86-64.</summary>
public class LandlockAbiTests
{
    [Fact]
    public void RulesetAttrIsTheAbi6LayoutOf24Bytes()
    {
        Assert.Equal(24, Unsafe.SizeOf<Libc.LandlockRulesetAttr>());
        Assert.Equal(0, (int)Marshal.OffsetOf<Libc.LandlockRulesetAttr>(nameof(Libc.LandlockRulesetAttr.HandledAccessFs)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.LandlockRulesetAttr>(nameof(Libc.LandlockRulesetAttr.HandledAccessNet)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Libc.LandlockRulesetAttr>(nameof(Libc.LandlockRulesetAttr.Scoped)));
    }

    [Fact]
    public void PathBeneathAttrIsPackedTo12Bytes()
    {
        Assert.Equal(12, Unsafe.SizeOf<Libc.LandlockPathBeneathAttr>());
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.LandlockPathBeneathAttr>(nameof(Libc.LandlockPathBeneathAttr.ParentFd)));
    }

    [Theory]
    [InlineData(LandlockAccessFs.Execute, 1UL << 0)]
    [InlineData(LandlockAccessFs.ReadDir, 1UL << 3)]
    [InlineData(LandlockAccessFs.MakeSock, 1UL << 9)]
    [InlineData(LandlockAccessFs.MakeSym, 1UL << 12)]
    [InlineData(LandlockAccessFs.Refer, 1UL << 13)]
    [InlineData(LandlockAccessFs.Truncate, 1UL << 14)]
    [InlineData(LandlockAccessFs.IoctlDev, 1UL << 15)]
    public void AccessBitsAreTheKernels(LandlockAccessFs access, ulong bit) => Assert.Equal(bit, (ulong)access);

    [Fact]
    public void TheVersionQueryReachesTheKernel()
    {
        var abi = Libc.LandlockAbiVersion();
        var errno = Marshal.GetLastPInvokeError();

        // Either an ABI version, or the errno of a kernel without Landlock (not built, or disabled at boot).
        Assert.True(abi >= 1 || errno is Libc.ENoSys or Libc.EOpNotSupp, $"landlock_create_ruleset(NULL, 0, VERSION) = {abi}, errno {errno}");
    }
}
