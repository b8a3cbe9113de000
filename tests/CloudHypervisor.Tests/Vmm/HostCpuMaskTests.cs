using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Cpu;
using Xunit;

namespace CloudHypervisor.Tests.Vmm;

public sealed class HostCpuMaskTests
{
    [Fact]
    public void UnpinnedVcpusGetNoMask()
    {
        Assert.Null(CpuManager.HostCpuMask(null, 0));
        Assert.Null(CpuManager.HostCpuMask([new CpuAffinity { Vcpu = 1, HostCpus = [3] }], 0));
    }

    [Fact]
    public void HostCpusBecomeBitsOfAGlibcCpuSet()
    {
        var mask = CpuManager.HostCpuMask([new CpuAffinity { Vcpu = 2, HostCpus = [0, 3, 64, 1023] }], 2)!;

        Assert.Equal(16, mask.Length);
        Assert.Equal(0b1001UL, mask[0]);
        Assert.Equal(1UL, mask[1]);
        Assert.Equal(1UL << 63, mask[15]);
    }
}
