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
    bool have_region;
    uint8_t space;
    uint64_t address;
    uint64_t length;
    bool have_irq;
    uint32_t irq;
};

static volatile uint64_t nmi_count;
static uint64_t ged_address;

/* ---- AML, just enough to read a region and a resource template ---- */

static bool is_name(const uint8_t *p, const char *name)
{
    return p[0] == name[0] && p[1] == name[1] && p[2] == name[2] && p[3] == name[3];
}

static uint64_t little_endian(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* PkgLength: bits 7-6 of the lead byte count the bytes that follow. */
static uint64_t pkg_length(const uint8_t **p)
{
    uint8_t lead = *(*p)++;
    int extra = lead >> 6;
    if (extra == 0)
        return lead & 0x3F;
    uint64_t length = lead & 0x0F;
    for (int i = 0; i < extra; i++)
        length |= (uint64_t)*(*p)++ << (4 + 8 * i);
    return length;
}

/* An integer TermArg: ZeroOp, OneOp, OnesOp or a Byte/Word/DWord/QWord constant. */
static bool aml_integer(const uint8_t **p, uint64_t *value)
{
    uint8_t op = *(*p)++;
    int bytes;
    switch (op) {
    case 0x00: *value = 0; return true;
    case 0x01: *value = 1; return true;
    case 0xFF: *value = ~0ull; return true;
    case 0x0A: bytes = 1; break;
    case 0x0B: bytes = 2; break;
    case 0x0C: bytes = 4; break;
    case 0x0E: bytes = 8; break;
    default: return false;
    }
    *value = little_endian(*p, bytes);
    *p += bytes;
    return true;
}

/* Skips a NameString and returns its last segment (NULL for NullName). */
static const uint8_t *name_string(const uint8_t **p)
{
    const uint8_t *q = *p;
    while (*q == '\\' || *q == '^')
        q++;
    int segments = 1;
    if (*q == 0x00) {
        *p = q + 1;
        return NULL;
    }
    if (*q == 0x2E) {
        segments = 2;
        q++;
    } else if (*q == 0x2F) {
        segments = q[1];
        q += 2;
    }
    *p = q + 4 * segments;
    return segments ? q + 4 * (segments - 1) : NULL;
}

/* OperationRegion: 0x5B 0x80 NameString RegionSpace Offset Length. */
static void find_region(struct ged_info *ged, const uint8_t *p, const uint8_t *end)
{
    for (; p + 8 < end; p++) {
        if (p[0] != 0x5B || p[1] != 0x80 || !is_name(p + 2, "GDST"))
            continue;
        const uint8_t *q = p + 6;
        ged->space = *q++;
        ged->have_region = aml_integer(&q, &ged->address) && aml_integer(&q, &ged->length);
        return;
    }
}

/* The first interrupt of a resource template: Extended Interrupt (0x89) or IRQ (tag 4). */
static void find_interrupt(struct ged_info *ged, const uint8_t *r, const uint8_t *end)
{
    while (r < end) {
        uint8_t tag = r[0];
        if (tag & 0x80) {
            if (r + 3 > end)
                return;
            uint64_t length = little_endian(r + 1, 2);
            if (tag == 0x89 && length >= 6 && r[4] >= 1 && r + 9 <= end) {
                ged->irq = (uint32_t)little_endian(r + 5, 4);
                ged->have_irq = true;
                return;
            }
            r += 3 + length;
        } else {
            uint8_t kind = (tag >> 3) & 0x0F;
            if (kind == 0x0F) /* end tag */
                return;
            if (kind == 0x04 && r + 3 <= end) {
                uint32_t mask = (uint32_t)little_endian(r + 1, 2);
                if (mask) {
                    ged->irq = (uint32_t)__builtin_ctz(mask);
                    ged->have_irq = true;
                }
                return;
            }
            r += 1 + (tag & 7);
        }
    }
}

/* Device (GED_) { ... Name (_CRS, Buffer (n) { ... }) ... } */
static void find_ged_irq(struct ged_info *ged, const uint8_t *p, const uint8_t *end)
{
    for (; p + 8 < end; p++) {
        if (p[0] != 0x5B || p[1] != 0x82)
            continue;
        const uint8_t *q = p + 2;
        const uint8_t *device_end = q;
        device_end += pkg_length(&q);
        const uint8_t *name = name_string(&q);
        if (!name || !is_name(name, "GED_") || device_end > end)
            continue;
        for (; q + 6 < device_end; q++) {
            if (q[0] != 0x08 || !is_name(q + 1, "_CRS") || q[5] != 0x11)
                continue;
            const uint8_t *b = q + 6;
            const uint8_t *buffer_end = b;
            buffer_end += pkg_length(&b);
            uint64_t size;
            if (buffer_end > device_end || !aml_integer(&b, &size))
                return;
            find_interrupt(ged, b, buffer_end);
            return;
        }
        return;
    }
}

/* Runs in ring 3, where the byte-by-byte scan costs nothing (see user_call). */
static uint64_t find_ged(uint64_t arg)
{
    struct ged_info *ged = (struct ged_info *)arg;
    const uint8_t *start = (const uint8_t *)ged->dsdt + sizeof(struct acpi_header);
    const uint8_t *end = (const uint8_t *)ged->dsdt + ged->dsdt->length;
    find_region(ged, start, end);
    find_ged_irq(ged, start, end);
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
    if (!ged.have_region) {
        kprintf("events: ged none\n");
        return;
    }
    if (ged.space != ACPI_SPACE_MEMORY || ged.length != 1 || !ged.have_irq) {
        kprintf("events: ged unusable space=%u length=%lu irq=%s\n", ged.space, ged.length,
                ged.have_irq ? "found" : "missing");
        return;
    }
    uint32_t entries = ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xFF) + 1;
    if (ged.irq >= entries || !map_high_page(ged.address)) {
        kprintf("events: ged unusable address=0x%lx irq=%u\n", ged.address, ged.irq);
        return;
    }
    ged_address = ged.address;
    set_interrupt_handler(GED_VECTOR, on_ged_interrupt);
    uint32_t low = IOAPIC_TABLE + 2 * ged.irq;
    ioapic_write(low + 1, 0u << 24); /* destination APIC ID 0 */
    ioapic_write(low, GED_VECTOR);   /* fixed, physical, edge, active high, unmasked */
    kprintf("events: ged address=0x%lx irq=%u\n", ged.address, ged.irq);
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
