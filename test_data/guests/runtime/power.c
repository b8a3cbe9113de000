/* ACPI S5 shutdown: the FADT sleep control register (hardware-reduced ACPI),
 * else PM1a/PM1b control blocks with SLP_TYP from \_S5. */
#include "runtime.h"

#define FADT_PM1A_CNT      64
#define FADT_PM1B_CNT      68
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM1B_CNT    184
#define FADT_SLEEP_CONTROL 244

#define SLEEP_S5_ENABLE    ((5 << 2) | (1 << 5))
#define PM1_SLP_EN         (1 << 13)

static void gas_write(const struct acpi_gas *g, uint32_t value, int default_bits)
{
    int bits = g->bit_width ? g->bit_width : default_bits;
    if (g->space_id == ACPI_SPACE_IO) {
        if (bits <= 8)
            outb((uint16_t)g->address, (uint8_t)value);
        else if (bits <= 16)
            outw((uint16_t)g->address, (uint16_t)value);
        else
            outl((uint16_t)g->address, value);
    } else if (g->space_id == ACPI_SPACE_MEMORY) {
        if (bits <= 8)
            mmio_write8(g->address, (uint8_t)value);
        else if (bits <= 16)
            mmio_write16(g->address, (uint16_t)value);
        else
            mmio_write32(g->address, value);
    }
}

/* X_PM1x_CNT_BLK if present, else the legacy 32-bit port field. */
static bool pm1_block(const uint8_t *fadt, uint32_t length, int x_off, int legacy_off, struct acpi_gas *out)
{
    if (length >= (uint32_t)x_off + 12) {
        memcpy(out, fadt + x_off, sizeof(*out));
        if (out->address)
            return true;
    }
    uint32_t port = *(const uint32_t *)(fadt + legacy_off);
    if (!port)
        return false;
    out->space_id = ACPI_SPACE_IO;
    out->bit_width = 16;
    out->bit_offset = 0;
    out->access_size = 2;
    out->address = port;
    return true;
}

/* The shutdown may complete asynchronously (QEMU queues the request while the
 * vCPU runs on), so give it about a second before calling it a failure. */
static void settle(void)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < 3000000000ull)
        __asm__ volatile("pause");
}

void acpi_shutdown(void)
{
    const struct acpi_header *fadt = acpi_find_table("FACP");
    if (!fadt) {
        kprintf("shutdown failed: no FADT\n");
        halt_forever();
    }
    const uint8_t *f = (const uint8_t *)fadt;
    struct acpi_gas sleep;
    if (fadt->length >= FADT_SLEEP_CONTROL + 12) {
        memcpy(&sleep, f + FADT_SLEEP_CONTROL, sizeof(sleep));
        if (sleep.address) {
            gas_write(&sleep, SLEEP_S5_ENABLE, 8);
            settle();
            kprintf("shutdown failed: sleep control register 0x%lx had no effect\n", sleep.address);
            halt_forever();
        }
    }
    struct acpi_gas pm1a, pm1b;
    if (!pm1_block(f, fadt->length, FADT_X_PM1A_CNT, FADT_PM1A_CNT, &pm1a)) {
        kprintf("shutdown failed: FADT has neither a sleep control register nor PM1a_CNT\n");
        halt_forever();
    }
    int slp_typ = acpi_s5_sleep_type();
    if (slp_typ < 0) {
        kprintf("shutdown failed: no \\_S5 package in the DSDT\n");
        halt_forever();
    }
    uint32_t value = ((uint32_t)slp_typ << 10) | PM1_SLP_EN;
    if (pm1_block(f, fadt->length, FADT_X_PM1B_CNT, FADT_PM1B_CNT, &pm1b))
        gas_write(&pm1b, value, 16);
    gas_write(&pm1a, value, 16);
    settle();
    kprintf("shutdown failed: PM1a_CNT 0x%lx write had no effect\n", pm1a.address);
    halt_forever();
}
