/* The IOAPIC at its fixed x86 address: indirect register access through the
 * select/window pair. */
#include "runtime.h"

#define IOAPIC_BASE 0xFEC00000ull
#define IOAPIC_WINDOW 0x10

uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(IOAPIC_BASE, reg);
    return mmio_read32(IOAPIC_BASE + IOAPIC_WINDOW);
}

void ioapic_write(uint32_t reg, uint32_t value)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, value);
}
