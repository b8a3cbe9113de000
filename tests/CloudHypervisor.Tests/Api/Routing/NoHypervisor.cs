using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Tests.Api.Routing;

/// <summary>A hypervisor that cannot create VMs, for driving the VMM's state machine without KVM.</summary>
internal sealed class NoHypervisor : IHypervisor
{
    public string Name => "none";

    public int MaxVcpus => 8;

    public IVm CreateVm() => throw new HypervisorException("Cannot create a VM", new HypervisorException("no hypervisor in unit tests"));

    public CpuIdEntry[] GetSupportedCpuId() => [];

    public void Dispose()
    {
    }
}
