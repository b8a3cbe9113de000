/* numa: the memory map, then SRAT affinities and the SLIT distance matrix. */
#include "runtime.h"

#define MAX_REGIONS 64

static void print_memmap(void)
{
    static struct mem_region map[MAX_REGIONS];
    int n = boot_memmap(map, MAX_REGIONS);
    if (n > MAX_REGIONS)
        n = MAX_REGIONS;
    for (int i = 0; i < n; i++)
        kprintf("numa: e820 base=0x%lx size=0x%lx type=%u\n", map[i].base, map[i].size, map[i].type);
}

static void print_srat(const struct acpi_header *srat)
{
    const uint8_t *p = (const uint8_t *)srat + sizeof(*srat) + 12;
    const uint8_t *end = (const uint8_t *)srat + srat->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        switch (p[0]) {
        case 0: { /* processor local APIC affinity: domain bits 7:0 at 2, 31:8 at 9 */
            uint32_t node = p[2] | ((uint32_t)p[9] << 8) | ((uint32_t)p[10] << 16) | ((uint32_t)p[11] << 24);
            if (*(const uint32_t *)(p + 4) & 1)
                kprintf("numa: cpu apic=%u node=%u\n", p[3], node);
            break;
        }
        case 1: /* memory affinity */
            if (*(const uint32_t *)(p + 28) & 1)
                kprintf("numa: mem base=0x%lx size=0x%lx node=%u%s\n", *(const uint64_t *)(p + 8),
                        *(const uint64_t *)(p + 16), *(const uint32_t *)(p + 2),
                        (*(const uint32_t *)(p + 28) & 2) ? " hotplug" : "");
            break;
        case 2: /* processor local x2APIC affinity */
            if (*(const uint32_t *)(p + 12) & 1)
                kprintf("numa: cpu apic=%u node=%u\n", *(const uint32_t *)(p + 8), *(const uint32_t *)(p + 4));
            break;
        default:
            kprintf("numa: srat entry type=%u len=%u\n", p[0], p[1]);
        }
        p += p[1];
    }
}

static void print_slit(const struct acpi_header *slit)
{
    uint64_t n = *(const uint64_t *)((const uint8_t *)slit + sizeof(*slit));
    const uint8_t *matrix = (const uint8_t *)slit + sizeof(*slit) + 8;
    kprintf("numa: localities=%lu\n", n);
    if (sizeof(*slit) + 8 + n * n > slit->length) {
        kprintf("numa: slit truncated\n");
        return;
    }
    for (uint64_t a = 0; a < n; a++)
        for (uint64_t b = 0; b < n; b++)
            kprintf("numa: distance %lu %lu = %u\n", a, b, matrix[a * n + b]);
}

void guest_main(void)
{
    kprintf("numa: guest kit numa started\n");
    print_memmap();

    const struct acpi_header *srat = acpi_find_table("SRAT");
    if (srat) {
        kprintf("numa: srat rev=%u checksum=%s\n", srat->revision, acpi_checksum_ok(srat, srat->length) ? "ok" : "bad");
        print_srat(srat);
    } else {
        kprintf("numa: srat none\n");
    }

    const struct acpi_header *slit = acpi_find_table("SLIT");
    if (slit) {
        kprintf("numa: slit rev=%u checksum=%s\n", slit->revision, acpi_checksum_ok(slit, slit->length) ? "ok" : "bad");
        print_slit(slit);
    } else {
        kprintf("numa: slit none\n");
    }
    kprintf("numa: done\n");
}
