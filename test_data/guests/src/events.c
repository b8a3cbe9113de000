/* events: the VMM's asynchronous guest events, NMI and ACPI power button.
 *
 * NMIs (vector 2) print "events: nmi count=N". The power button arrives the way
 * Cloud Hypervisor signals it: through its ACPI Generic Event Device, whose
 * one-byte status register the DSDT declares as OperationRegion GDST in
 * \_SB_.GEC_ and whose interrupt is \_SB_.GED_._CRS. The guest finds both in the
 * DSDT, maps the (high) register, routes the IOAPIC pin (edge, fixed, physical
 * destination APIC 0) and, on that interrupt, reads the register (which clears
 * it): bit 0x08 prints "events: power-button" and powers off through ACPI, as an
 * OS would. Without a GED (QEMU) it prints "events: ged none". Then it halts
 * with interrupts enabled forever. */
#include "runtime.h"

#define GED_VECTOR 0x2D
#define GED_POWER_BUTTON 0x08

/* What the DSDT says about the GED; filled in ring 3 (see find_ged). */
struct ged_info {
    const struct acpi_header *dsdt;
    struct aml_region status;
    bool have_irq;
    uint32_t irq;
};

static volatile uint64_t nmi_count;
static uint64_t ged_address;

/* Runs in ring 3, where the byte-by-byte scan costs nothing (see user_call). */
static uint64_t find_ged(uint64_t arg)
{
    struct ged_info *ged = (struct ged_info *)arg;
    aml_find_region(ged->dsdt, "GDST", &ged->status);
    ged->have_irq = aml_find_device_irq(ged->dsdt, "GED_", &ged->irq);
    return 0;
}

/* ---- interrupts ---- */

static void on_nmi(void)
{
    nmi_count++;
    kprintf("events: nmi count=%lu\n", nmi_count);
}

static void on_ged_interrupt(uint64_t vector)
{
    (void)vector;
    uint8_t status = mmio_read8(ged_address);
    kprintf("events: ged status=0x%02x\n", status);
    if (status & GED_POWER_BUTTON) {
        kprintf("events: power-button\n");
        acpi_shutdown();
    }
}

/* Finds the GED, maps its register and routes its pin; prints what it found. */
static void setup_ged(void)
{
    struct ged_info ged = { .dsdt = acpi_find_table("DSDT") };
    if (ged.dsdt)
        user_call(find_ged, (uint64_t)&ged);
    if (!ged.status.found) {
        kprintf("events: ged none\n");
        return;
    }
    if (ged.status.space != ACPI_SPACE_MEMORY || ged.status.length != 1 || !ged.have_irq) {
        kprintf("events: ged unusable space=%u length=%lu irq=%s\n", ged.status.space, ged.status.length,
                ged.have_irq ? "found" : "missing");
        return;
    }
    uint32_t entries = ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xFF) + 1;
    if (ged.irq >= entries || !map_high_page(ged.status.address)) {
        kprintf("events: ged unusable address=0x%lx irq=%u\n", ged.status.address, ged.irq);
        return;
    }
    ged_address = ged.status.address;
    set_interrupt_handler(GED_VECTOR, on_ged_interrupt);
    uint32_t low = IOAPIC_TABLE + 2 * ged.irq;
    ioapic_write(low + 1, 0u << 24); /* destination APIC ID 0 */
    ioapic_write(low, GED_VECTOR);   /* fixed, physical, edge, active high, unmasked */
    kprintf("events: ged address=0x%lx irq=%u\n", ged.status.address, ged.irq);
}

void guest_main(void)
{
    pic_mask_all();
    kprintf("events: guest kit events started\n");
    set_nmi_handler(on_nmi);
    lapic_enable();
    lapic_lint1_nmi();
    setup_ged();
    kprintf("events: ready\n");
    for (;;)
        __asm__ volatile("sti; hlt; cli");
}
