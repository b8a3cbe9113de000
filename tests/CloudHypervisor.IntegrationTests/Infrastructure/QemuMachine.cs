namespace CloudHypervisor.IntegrationTests.Infrastructure;

public enum QemuMachine
{
    /// <summary>QEMU's minimal machine (qboot firmware, ACPI, no PCI): boots in well under a second.</summary>
    Microvm,

    /// <summary>The PCIe PC (SeaBIOS): for PCI enumeration; firmware takes a few seconds here.</summary>
    Q35,
}
