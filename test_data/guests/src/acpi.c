/* acpi: walk RSDP, XSDT/RSDT and every table; summarize MADT and MCFG. */
#include "runtime.h"

static int bad_checksums;

static const char *verdict(bool ok)
{
    if (!ok)
        bad_checksums++;
    return ok ? "ok" : "bad";
}

static void print_table(const struct acpi_header *t)
{
    kprintf("acpi: table sig=%.4s addr=0x%lx len=%u rev=%u oem=%.6s checksum=%s\n",
            t->signature, (uint64_t)t, t->length, t->revision, t->oem_id,
            verdict(acpi_checksum_ok(t, t->length)));
}

static void summarize_madt(const struct acpi_header *madt)
{
    int lapic = 0, x2apic = 0, ioapic = 0, enabled = 0, online_capable = 0;
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8; /* LAPIC address, flags */
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        uint32_t flags = 0;
        switch (p[0]) {
        case 0: /* processor local APIC */
            lapic++;
            flags = *(const uint32_t *)(p + 4);
            break;
        case 9: /* processor local x2APIC */
            x2apic++;
            flags = *(const uint32_t *)(p + 8);
            break;
        case 1: /* I/O APIC */
            ioapic++;
            kprintf("acpi: ioapic id=%u addr=0x%x gsi-base=%u\n", p[2], *(const uint32_t *)(p + 4),
                    *(const uint32_t *)(p + 8));
            break;
        }
        if (p[0] == 0 || p[0] == 9) {
            if (flags & 1)
                enabled++;
            else if (flags & 2)
                online_capable++;
        }
        p += p[1];
    }
    kprintf("acpi: madt lapic=%d x2apic=%d ioapic=%d\n", lapic, x2apic, ioapic);
    kprintf("acpi: cpus enabled=%d online-capable=%d\n", enabled, online_capable);
}

static void summarize_mcfg(const struct acpi_header *mcfg)
{
    const uint8_t *p = (const uint8_t *)mcfg + sizeof(*mcfg) + 8;
    const uint8_t *end = (const uint8_t *)mcfg + mcfg->length;
    for (; p + 16 <= end; p += 16)
        kprintf("acpi: mcfg base=0x%lx segment=%u buses=%u-%u\n", *(const uint64_t *)p,
                *(const uint16_t *)(p + 8), p[10], p[11]);
}

void guest_main(void)
{
    kprintf("acpi: guest kit acpi started\n");
    const struct acpi_rsdp *rsdp = acpi_find_rsdp();
    if (!rsdp) {
        kprintf("acpi: rsdp none\n");
        return;
    }
    bool rsdp_ok = acpi_checksum_ok(rsdp, 20) && (rsdp->revision < 2 || acpi_checksum_ok(rsdp, rsdp->length));
    kprintf("acpi: rsdp addr=0x%lx rev=%u oem=%.6s checksum=%s\n", (uint64_t)rsdp, rsdp->revision,
            rsdp->oem_id, verdict(rsdp_ok));

    const struct acpi_header *root = acpi_root_table();
    if (!root) {
        kprintf("acpi: root none\n");
        return;
    }
    print_table(root);
    int n = acpi_table_count();
    kprintf("acpi: root sig=%.4s entries=%d\n", root->signature, n);
    for (int i = 0; i < n; i++) {
        const struct acpi_header *t = acpi_table_at(i);
        if (t)
            print_table(t);
    }
    const struct acpi_header *dsdt = acpi_find_table("DSDT");
    if (dsdt)
        print_table(dsdt);
    else
        kprintf("acpi: dsdt none\n");

    const struct acpi_header *madt = acpi_find_table("APIC");
    if (madt)
        summarize_madt(madt);
    else
        kprintf("acpi: madt none\n");
    const struct acpi_header *mcfg = acpi_find_table("MCFG");
    if (mcfg)
        summarize_mcfg(mcfg);
    else
        kprintf("acpi: mcfg none\n");

    if (bad_checksums)
        kprintf("acpi: checksums bad=%d\n", bad_checksums);
    else
        kprintf("acpi: checksums ok\n");
    kprintf("acpi: done\n");
}
