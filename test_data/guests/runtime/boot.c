/* What the loader handed over: PVH hvm_start_info or Linux boot_params. */
#include "runtime.h"

#define PVH_MAGIC 0x336EC578

/* hvm_start_info field offsets */
#define PVH_VERSION        4
#define PVH_CMDLINE        24
#define PVH_RSDP           32
#define PVH_MEMMAP         40
#define PVH_MEMMAP_ENTRIES 48

/* boot_params field offsets */
#define BP_ACPI_RSDP       0x070
#define BP_EXT_CMDLINE     0x0C8
#define BP_E820_ENTRIES    0x1E8
#define BP_CMDLINE         0x228
#define BP_E820_TABLE      0x2D0
#define BP_E820_MAX        128

static uint32_t rd32(uint64_t base, unsigned off) { return *(const uint32_t *)phys(base + off); }
static uint64_t rd64(uint64_t base, unsigned off) { return *(const uint64_t *)phys(base + off); }

static bool pvh_valid(void)
{
    return boot_protocol == BOOT_PVH && boot_info && rd32(boot_info, 0) == PVH_MAGIC;
}

const char *boot_protocol_name(void)
{
    switch (boot_protocol) {
    case BOOT_PVH: return "pvh";
    case BOOT_LINUX32:
    case BOOT_LINUX64: return "linux";
    default: return "unknown";
    }
}

const char *boot_entry_name(void)
{
    switch (boot_protocol) {
    case BOOT_PVH: return "pvh32";
    case BOOT_LINUX32: return "linux32";
    case BOOT_LINUX64: return "linux64";
    default: return "unknown";
    }
}

const char *boot_cmdline(void)
{
    uint64_t addr = 0;
    if (pvh_valid())
        addr = rd64(boot_info, PVH_CMDLINE);
    else if (boot_protocol != BOOT_PVH && boot_info)
        addr = rd32(boot_info, BP_CMDLINE) | ((uint64_t)rd32(boot_info, BP_EXT_CMDLINE) << 32);
    return addr ? (const char *)phys(addr) : "";
}

uint64_t boot_rsdp_hint(void)
{
    if (pvh_valid())
        return rd64(boot_info, PVH_RSDP);
    if (boot_protocol != BOOT_PVH && boot_info)
        return rd64(boot_info, BP_ACPI_RSDP);
    return 0;
}

int boot_memmap(struct mem_region *out, int max)
{
    int count = 0;
    if (pvh_valid()) {
        if (rd32(boot_info, PVH_VERSION) < 1)
            return 0;
        uint64_t table = rd64(boot_info, PVH_MEMMAP);
        count = (int)rd32(boot_info, PVH_MEMMAP_ENTRIES);
        for (int i = 0; i < count && i < max; i++) {
            out[i].base = rd64(table, i * 24);
            out[i].size = rd64(table, i * 24 + 8);
            out[i].type = rd32(table, i * 24 + 16);
        }
    } else if (boot_protocol != BOOT_PVH && boot_info) {
        count = *(const uint8_t *)phys(boot_info + BP_E820_ENTRIES);
        if (count > BP_E820_MAX)
            count = BP_E820_MAX;
        for (int i = 0; i < count && i < max; i++) {
            uint64_t e = boot_info + BP_E820_TABLE + i * 20;
            out[i].base = rd64(e, 0);
            out[i].size = rd64(e, 8);
            out[i].type = rd32(e, 16);
        }
    }
    return count;
}

/* Finds "key=" at the start of a word; returns the value's start or NULL. */
static const char *cmdline_value(const char *key)
{
    const char *s = boot_cmdline();
    size_t klen = strlen(key);
    for (const char *p = s; *p; p++) {
        if ((p == s || p[-1] == ' ') && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return p + klen + 1;
    }
    return NULL;
}

bool cmdline_get_u64(const char *key, uint64_t *value)
{
    const char *p = cmdline_value(key);
    if (!p)
        return false;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    uint64_t v = 0;
    int digits = 0;
    for (;; p++, digits++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            break;
        v = v * base + d;
    }
    if (!digits)
        return false;
    *value = v;
    return true;
}

bool cmdline_has_word(const char *word)
{
    const char *s = boot_cmdline();
    size_t len = strlen(word);
    for (const char *p = s; *p; p++) {
        if ((p == s || p[-1] == ' ') && strncmp(p, word, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
            return true;
    }
    return false;
}
