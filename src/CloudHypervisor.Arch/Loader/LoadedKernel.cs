namespace CloudHypervisor.Arch.Loader;

public enum BootProtocol
{
    /// <summary>Xen PVH: 32-bit entry, hvm_start_info in RBX.</summary>
    Pvh,

    /// <summary>Linux 32-bit boot protocol: entry at code32_start, zero page in RSI.</summary>
    LinuxBoot,
}

/// <summary>Where a kernel or firmware image landed and how to enter it.</summary>
public sealed record LoadedKernel(BootProtocol Protocol, ulong Entry, ulong KernelEnd, byte[]? SetupHeader);
