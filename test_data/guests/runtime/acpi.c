/* Finding ACPI tables: RSDP -> XSDT (or RSDT) -> tables; DSDT via the FADT. */
#include "runtime.h"

#define FADT_DSDT   40
#define FADT_X_DSDT 140

bool acpi_checksum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum == 0;
}

static bool rsdp_at(uint64_t addr)
{
    const struct acpi_rsdp *r = phys(addr);
    return memcmp(r->signature, "RSD PTR ", 8) == 0 && acpi_checksum_ok(r, 20);
}

static uint64_t scan_rsdp(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a < end; a += 16)
        if (rsdp_at(a))
            return a;
    return 0;
}

const struct acpi_rsdp *acpi_find_rsdp(void)
{
    static uint64_t found;
    if (found)
        return phys(found);
    uint64_t hint = boot_rsdp_hint();
    if (hint && rsdp_at(hint)) {
        found = hint;
    } else {
        uint64_t ebda = (uint64_t)*(const uint16_t *)phys(0x40E) << 4;
        if (ebda >= 0x80000 && ebda < 0xA0000)
            found = scan_rsdp(ebda, ebda + 1024);
        if (!found)
            found = scan_rsdp(0xE0000, 0x100000);
    }
    return found ? phys(found) : NULL;
}

const struct acpi_header *acpi_root_table(void)
{
    const struct acpi_rsdp *r = acpi_find_rsdp();
    if (!r)
        return NULL;
    if (r->revision >= 2 && r->xsdt_address)
        return phys(r->xsdt_address);
    return r->rsdt_address ? phys(r->rsdt_address) : NULL;
}

static int entry_size(const struct acpi_header *root)
{
    return memcmp(root->signature, "XSDT", 4) == 0 ? 8 : 4;
}

int acpi_table_count(void)
{
    const struct acpi_header *root = acpi_root_table();
    if (!root || root->length < sizeof(*root))
        return 0;
    return (int)((root->length - sizeof(*root)) / (uint32_t)entry_size(root));
}

const struct acpi_header *acpi_table_at(int index)
{
    const struct acpi_header *root = acpi_root_table();
    if (!root || index < 0 || index >= acpi_table_count())
        return NULL;
    const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
    uint64_t addr = entry_size(root) == 8 ? *(const uint64_t *)(entries + 8 * index)
                                          : *(const uint32_t *)(entries + 4 * index);
    return addr ? phys(addr) : NULL;
}

const struct acpi_header *acpi_find_table(const char *signature)
{
    if (memcmp(signature, "DSDT", 4) == 0) {
        const struct acpi_header *fadt = acpi_find_table("FACP");
        if (!fadt)
            return NULL;
        const uint8_t *f = (const uint8_t *)fadt;
        uint64_t addr = 0;
        if (fadt->length >= FADT_X_DSDT + 8)
            addr = *(const uint64_t *)(f + FADT_X_DSDT);
        if (!addr)
            addr = *(const uint32_t *)(f + FADT_DSDT);
        return addr ? phys(addr) : NULL;
    }
    int n = acpi_table_count();
    for (int i = 0; i < n; i++) {
        const struct acpi_header *t = acpi_table_at(i);
        if (t && memcmp(t->signature, signature, 4) == 0)
            return t;
    }
    return NULL;
}

/* AML: NameOp? "_S5_" PackageOp PkgLength NumElements <SLP_TYPa> ... */
int acpi_s5_sleep_type(void)
{
    const struct acpi_header *dsdt = acpi_find_table("DSDT");
    if (!dsdt)
        return -1;
    const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
    const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
    for (; p + 8 < end; p++) {
        if (p[0] != '_' || p[1] != 'S' || p[2] != '5' || p[3] != '_' || p[4] != 0x12)
            continue;
        const uint8_t *q = p + 5;
        q += 1 + (q[0] >> 6); /* PkgLength: top two bits count the extra bytes */
        q += 1;               /* NumElements */
        if (q >= end)
            return -1;
        switch (q[0]) {
        case 0x00: return 0;           /* ZeroOp */
        case 0x01: return 1;           /* OneOp */
        case 0x0A: return q[1];        /* BytePrefix */
        default: return q[0] < 0x08 ? q[0] : -1;
        }
    }
    return -1;
}
