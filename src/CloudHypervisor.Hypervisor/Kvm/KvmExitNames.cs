namespace CloudHypervisor.Hypervisor.Kvm;

/// <summary>Names of KVM exit reasons and internal-error suberrors (linux/kvm.h), for fatal-exit log lines.</summary>
internal static class KvmExitNames
{
    public const uint SuberrorEmulation = 1;
    public const ulong EmulationFlagInstructionBytes = 1;

    public static string Name(uint reason) => reason switch
    {
        0 => "KVM_EXIT_UNKNOWN",
        1 => "KVM_EXIT_EXCEPTION",
        2 => "KVM_EXIT_IO",
        3 => "KVM_EXIT_HYPERCALL",
        4 => "KVM_EXIT_DEBUG",
        5 => "KVM_EXIT_HLT",
        6 => "KVM_EXIT_MMIO",
        7 => "KVM_EXIT_IRQ_WINDOW_OPEN",
        8 => "KVM_EXIT_SHUTDOWN",
        9 => "KVM_EXIT_FAIL_ENTRY",
        10 => "KVM_EXIT_INTR",
        11 => "KVM_EXIT_SET_TPR",
        12 => "KVM_EXIT_TPR_ACCESS",
        16 => "KVM_EXIT_NMI",
        17 => "KVM_EXIT_INTERNAL_ERROR",
        24 => "KVM_EXIT_SYSTEM_EVENT",
        26 => "KVM_EXIT_IOAPIC_EOI",
        27 => "KVM_EXIT_HYPERV",
        29 => "KVM_EXIT_X86_RDMSR",
        30 => "KVM_EXIT_X86_WRMSR",
        31 => "KVM_EXIT_DIRTY_RING_FULL",
        33 => "KVM_EXIT_X86_BUS_LOCK",
        37 => "KVM_EXIT_NOTIFY",
        39 => "KVM_EXIT_MEMORY_FAULT",
        _ => "unknown to this VMM",
    };

    public static string InternalSuberror(uint suberror) => suberror switch
    {
        SuberrorEmulation => "emulation failure",
        2 => "simultaneous exceptions",
        3 => "event delivery failed",
        4 => "unexpected exit reason",
        _ => "unknown suberror",
    };
}
