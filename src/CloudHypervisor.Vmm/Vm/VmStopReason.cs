namespace CloudHypervisor.Vmm.Vm;

/// <summary>Why a running VM stopped on its own.</summary>
public enum VmStopReason
{
    /// <summary>The guest powered off (ACPI S5).</summary>
    Shutdown,

    /// <summary>The guest asked for a reboot (ACPI reset, i8042, CMOS, paravirtual reset).</summary>
    Reset,

    /// <summary>A vCPU hit a fatal exit (triple fault, emulation failure); already logged.</summary>
    Error,
}
