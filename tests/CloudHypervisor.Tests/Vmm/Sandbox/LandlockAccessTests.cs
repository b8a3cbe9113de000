using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Vmm.Sandbox;
using static CloudHypervisor.Sys.Interop.LandlockAccessFs;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

public class LandlockAccessTests
{
    // Upstream's test lists these explicitly (landlock crate, ABI::V3) so a change is visible in review.
    private const LandlockAccessFs UpstreamRead = Execute | ReadFile | ReadDir;
    private const LandlockAccessFs UpstreamWrite = WriteFile | RemoveDir | RemoveFile | MakeChar | MakeDir | MakeReg | MakeSock
        | MakeFifo | MakeBlock | MakeSym | Refer | Truncate;

    [Theory]
    [InlineData("r", UpstreamRead)]
    [InlineData("w", UpstreamWrite)]
    [InlineData("rw", UpstreamRead | UpstreamWrite)]
    [InlineData("wr", UpstreamRead | UpstreamWrite)]
    public void AccessLettersGrantUpstreamsRights(string access, LandlockAccessFs expected) =>
        Assert.Equal(expected, LandlockAccess.Parse(access));

    [Theory]
    [InlineData("", "Invalid Landlock access: Access cannot be empty")]
    [InlineData("rx", "Invalid Landlock access: Invalid access: x")]
    public void OtherAccessIsRefusedWithUpstreamsText(string access, string message) =>
        Assert.Equal(message, Assert.Throws<LandlockException>(() => LandlockAccess.Parse(access)).Message);

    [Fact]
    public void NoLandlockSupportsNothing() => Assert.Equal(None, LandlockAccess.SupportedBy(0));

    [Theory]
    [InlineData(1, false, false, false)]
    [InlineData(2, true, false, false)]
    [InlineData(3, true, true, false)]
    [InlineData(4, true, true, false)]
    [InlineData(5, true, true, true)]
    [InlineData(7, true, true, true)]
    [InlineData(9, true, true, true)]
    public void EachAbiAddsItsRights(int abi, bool refer, bool truncate, bool ioctlDev)
    {
        var supported = LandlockAccess.SupportedBy(abi);

        Assert.Equal(Execute | WriteFile | ReadFile | ReadDir | RemoveDir | RemoveFile | MakeChar | MakeDir | MakeReg | MakeSock
            | MakeFifo | MakeBlock | MakeSym, supported & ~(Refer | Truncate | IoctlDev));
        Assert.Equal(refer, supported.HasFlag(Refer));
        Assert.Equal(truncate, supported.HasFlag(Truncate));
        Assert.Equal(ioctlDev, supported.HasFlag(IoctlDev));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void TheHandledSetIsUpstreamsMaskedByTheKernelsAbi(int abi)
    {
        var handled = LandlockAccess.HandledBy(abi);

        Assert.Equal(UpstreamRead | UpstreamWrite & LandlockAccess.SupportedBy(abi), handled);
        Assert.False(handled.HasFlag(IoctlDev)); // Never handled, as upstream: device ioctls stay allowed.
    }

    [Fact]
    public void OnlyFileRightsApplyToAFile() =>
        Assert.Equal(Execute | WriteFile | ReadFile | Truncate | IoctlDev, LandlockAccess.FileCompatible);
}
