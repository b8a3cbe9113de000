namespace CloudHypervisor.Hypervisor;

/// <summary>A hypervisor backend (KVM; MSHV would be another implementation).</summary>
public interface IHypervisor : IDisposable
{
    string Name { get; }

    IVm CreateVm();

    /// <summary>The CPUID leaves the backend can expose to a guest, before VMM adjustments.</summary>
    CpuIdEntry[] GetSupportedCpuId();

    /// <summary>The highest vCPU count a VM may have.</summary>
    int MaxVcpus { get; }
}

/// <summary>A virtual machine: guest memory slots, interrupt plumbing and vCPUs.</summary>
public interface IVm : IDisposable
{
    void SetUserMemoryRegion(uint slot, ulong guestAddress, ulong size, nint hostAddress, bool readOnly = false);

    /// <summary>x86: the in-kernel LAPIC with the IOAPIC emulated in userspace (24 pins).</summary>
    void EnableSplitIrqChip(uint ioapicPins);

    void EnableX2ApicApi();

    void SetTssAddress(ulong address);

    void SetIdentityMapAddress(ulong address);

    IVcpu CreateVcpu(int id);

    /// <summary>Injects one message-signalled interrupt into the guest, now.</summary>
    void SignalMsi(MsiMessage message);

    /// <summary>
    /// Replaces the whole GSI routing table with <paramref name="routes"/>. Irqfds fire through it,
    /// and on x86 with the split irqchip the routes of GSIs below the IOAPIC pin count also tell the
    /// in-kernel LAPIC which level-triggered vectors need an <see cref="VmExitReason.IoapicEoi"/> exit.
    /// </summary>
    void SetGsiRouting(ReadOnlySpan<MsiRoute> routes);

    /// <summary>Makes every write to <paramref name="eventFd"/> raise <paramref name="gsi"/> through its route.</summary>
    void RegisterIrqFd(int eventFd, uint gsi);

    void UnregisterIrqFd(int eventFd, uint gsi);

    void RegisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null);

    /// <summary>Removes a registration made by <see cref="RegisterIoEventFd"/> with the same arguments.</summary>
    void UnregisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null);

    /// <summary>TSC frequency in kHz, or 0 when unknown.</summary>
    uint TscKhz { get; }
}

/// <summary>An MSI as the interrupt controller sees it: the address and data words a device writes.</summary>
public readonly record struct MsiMessage(ulong Address, uint Data);

/// <summary>One entry of the GSI routing table: GSI <see cref="Gsi"/> delivers <see cref="Message"/>.</summary>
public readonly record struct MsiRoute(uint Gsi, MsiMessage Message);

/// <summary>One virtual CPU. <see cref="Run"/> must be called on the vCPU's own thread.</summary>
public interface IVcpu : IDisposable
{
    int Id { get; }

    VmExit Run();

    /// <summary>Makes the current or next <see cref="Run"/> return <see cref="VmExitReason.Interrupted"/>.</summary>
    void RequestImmediateExit(bool value);

    StandardRegisters GetRegisters();

    void SetRegisters(in StandardRegisters registers);

    SpecialRegisters GetSpecialRegisters();

    void SetSpecialRegisters(in SpecialRegisters registers);

    void SetFpu(ushort fcw, uint mxcsr);

    void SetMsrs(ReadOnlySpan<MsrEntry> msrs);

    void SetCpuId(ReadOnlySpan<CpuIdEntry> entries);

    /// <summary>The 1 KiB local APIC register page.</summary>
    byte[] GetLapic();

    void SetLapic(ReadOnlySpan<byte> registers);

    void InjectNmi();

    void EnableHypervSynic();

    /// <summary>A one-line description of the last exit (reason, error codes, RIP) for fatal-error logs.</summary>
    string DescribeLastExit();
}
