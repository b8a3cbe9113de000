using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Tests.Hypervisor;

/// <summary>
/// A VM whose every operation throws <see cref="NotSupportedException"/>: tests derive from it and override the few
/// calls the code under test may make, recording them, so any other call fails the test.
/// </summary>
internal abstract class UnsupportedVm : IVm
{
    public virtual uint TscKhz => 0;

    public virtual void SetUserMemoryRegion(uint slot, ulong guestAddress, ulong size, nint hostAddress, bool readOnly = false) =>
        throw new NotSupportedException();

    public virtual void EnableSplitIrqChip(uint ioapicPins) => throw new NotSupportedException();

    public virtual void EnableX2ApicApi() => throw new NotSupportedException();

    public virtual void SetTssAddress(ulong address) => throw new NotSupportedException();

    public virtual void SetIdentityMapAddress(ulong address) => throw new NotSupportedException();

    public virtual IVcpu CreateVcpu(int id) => throw new NotSupportedException();

    public virtual void SignalMsi(MsiMessage message) => throw new NotSupportedException();

    public virtual void SetGsiRouting(ReadOnlySpan<MsiRoute> routes) => throw new NotSupportedException();

    public virtual void RegisterIrqFd(int eventFd, uint gsi) => throw new NotSupportedException();

    public virtual void UnregisterIrqFd(int eventFd, uint gsi) => throw new NotSupportedException();

    public virtual void RegisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null) =>
        throw new NotSupportedException();

    public virtual void UnregisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null) =>
        throw new NotSupportedException();

    public void Dispose()
    {
    }
}
