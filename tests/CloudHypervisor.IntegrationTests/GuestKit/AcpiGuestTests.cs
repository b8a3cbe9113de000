using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class AcpiGuestTests
{
    [QemuFact]
    public async Task Microvm_tables_are_valid_and_madt_counts_the_vcpus()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Acpi)) { Cpus = 2 }, TimeSpan.FromSeconds(30));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLineStartingWith(result, "acpi: rsdp addr=");
        foreach (var table in new[] { "XSDT", "FACP", "APIC", "DSDT" })
            GuestAssert.HasLineStartingWith(result, $"acpi: table sig={table} ");
        Assert.True(result.SerialLines.Where(l => l.StartsWith("acpi: table ", StringComparison.Ordinal))
            .All(l => l.EndsWith(" checksum=ok", StringComparison.Ordinal)), result.ToString());
        GuestAssert.HasLine(result, "acpi: cpus enabled=2 online-capable=0");
        GuestAssert.HasLine(result, "acpi: madt lapic=2 x2apic=0 ioapic=2");
        GuestAssert.HasLine(result, "acpi: mcfg none");
        GuestAssert.HasLine(result, "acpi: checksums ok");
        GuestAssert.EndsWithDone(result, "acpi");
    }

    [QemuFact]
    public async Task Q35_reports_mcfg_and_shuts_down_through_pm1a()
    {
        // q35's FADT has no sleep control register: shutdown takes the PM1a_CNT + \_S5 path.
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Acpi)) { Machine = QemuMachine.Q35, Cpus = 2 },
            TimeSpan.FromSeconds(60));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLine(result, "acpi: cpus enabled=2 online-capable=0");
        GuestAssert.HasLine(result, "acpi: mcfg base=0xb0000000 segment=0 buses=0-255");
        GuestAssert.HasLine(result, "acpi: checksums ok");
        GuestAssert.EndsWithDone(result, "acpi");
    }
}
