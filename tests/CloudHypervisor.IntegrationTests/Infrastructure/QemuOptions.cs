namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>One QEMU -kernel boot.</summary>
public sealed record QemuOptions(string Kernel)
{
    public string? CommandLine { get; init; }
    public string? Initrd { get; init; }
    public QemuMachine Machine { get; init; } = QemuMachine.Microvm;

    /// <summary>Extra machine properties appended to -M, e.g. "pcie=on" (microvm's PCIe host, no firmware BAR setup).</summary>
    public string? MachineProperties { get; init; }

    public int MemoryMib { get; init; } = 512;
    public int Cpus { get; init; } = 1;

    /// <summary>Exit instead of rebooting (-no-reboot).</summary>
    public bool NoReboot { get; init; } = true;

    /// <summary>The human monitor on stdin/stdout (see <see cref="QemuInstance.MonitorAsync"/>).</summary>
    public bool MonitorOnStdio { get; init; }

    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}
