/* Just enough AML to read constant OperationRegions and a device's interrupt from a DSDT, without an
 * interpreter: byte-by-byte scans, cheap only in ring 3 (call them through user_call). */
#include "runtime.h"

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
void aml_find_region(const struct acpi_header *table, const char *name, struct aml_region *region)
{
    const uint8_t *p = (const uint8_t *)table + sizeof(*table);
    const uint8_t *end = (const uint8_t *)table + table->length;
    region->found = false;
    for (; p + 8 < end; p++) {
        if (p[0] != 0x5B || p[1] != 0x80 || !is_name(p + 2, name))
            continue;
        const uint8_t *q = p + 6;
        region->space = *q++;
        region->found = aml_integer(&q, &region->address) && aml_integer(&q, &region->length);
        return;
    }
}

/* The first interrupt of a resource template: Extended Interrupt (0x89) or IRQ (tag 4). */
static bool find_interrupt(uint32_t *irq, const uint8_t *r, const uint8_t *end)
{
    while (r < end) {
        uint8_t tag = r[0];
        if (tag & 0x80) {
            if (r + 3 > end)
                return false;
            uint64_t length = little_endian(r + 1, 2);
            if (tag == 0x89 && length >= 6 && r[4] >= 1 && r + 9 <= end) {
                *irq = (uint32_t)little_endian(r + 5, 4);
                return true;
            }
            r += 3 + length;
        } else {
            uint8_t kind = (tag >> 3) & 0x0F;
            if (kind == 0x0F) /* end tag */
                return false;
            if (kind == 0x04 && r + 3 <= end) {
                uint32_t mask = (uint32_t)little_endian(r + 1, 2);
                *irq = mask ? (uint32_t)__builtin_ctz(mask) : 0;
                return mask != 0;
            }
            r += 1 + (tag & 7);
        }
    }
    return false;
}

/* Device (NAME) { ... Name (_CRS, Buffer (n) { ... }) ... } */
bool aml_find_device_irq(const struct acpi_header *table, const char *device, uint32_t *irq)
{
    const uint8_t *p = (const uint8_t *)table + sizeof(*table);
    const uint8_t *end = (const uint8_t *)table + table->length;
    for (; p + 8 < end; p++) {
        if (p[0] != 0x5B || p[1] != 0x82)
            continue;
        const uint8_t *q = p + 2;
        const uint8_t *device_end = q;
        device_end += pkg_length(&q);
        const uint8_t *name = name_string(&q);
        if (!name || !is_name(name, device) || device_end > end)
            continue;
        for (; q + 6 < device_end; q++) {
            if (q[0] != 0x08 || !is_name(q + 1, "_CRS") || q[5] != 0x11)
                continue;
            const uint8_t *b = q + 6;
            const uint8_t *buffer_end = b;
            buffer_end += pkg_length(&b);
            uint64_t size;
            if (buffer_end > device_end || !aml_integer(&b, &size))
                return false;
            return find_interrupt(irq, b, buffer_end);
        }
        return false;
    }
    return false;
}

