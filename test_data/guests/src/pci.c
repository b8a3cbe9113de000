/* pci: bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC), then
 * through ECAM at the MCFG base of segment 0, then bus 0 of every further
 * segment the MCFG lists ("pci: segment=N ..." lines, prefix "segN "). */
#include "runtime.h"

static uint32_t cf8_address(int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)(dev << 11) | (uint32_t)(fn << 8) | (uint32_t)(reg & 0xFC);
}

static uint32_t config_read32(int dev, int fn, int reg)
{
    outl(0xCF8, cf8_address(dev, fn, reg));
    return inl(0xCFC);
}

static void config_write32(int dev, int fn, int reg, uint32_t value)
{
    outl(0xCF8, cf8_address(dev, fn, reg));
    outl(0xCFC, value);
}

static uint64_t ecam_base;

static uint64_t ecam_address(int dev, int fn, int reg)
{
    return ecam_base + ((uint64_t)dev << 15) + ((uint64_t)fn << 12) + (uint64_t)(reg & 0xFFC);
}

static uint32_t ecam_read32(int dev, int fn, int reg) { return mmio_read32(ecam_address(dev, fn, reg)); }

static void ecam_write32(int dev, int fn, int reg, uint32_t value) { mmio_write32(ecam_address(dev, fn, reg), value); }

typedef uint32_t (*config_reader)(int dev, int fn, int reg);

/* Lists bus 0 through `read`, one line per function; returns the count. */
static int scan(const char *prefix, config_reader read)
{
    int functions = 0;
    for (int dev = 0; dev < 32; dev++) {
        for (int fn = 0; fn < 8; fn++) {
            uint32_t id = read(dev, fn, 0x00);
            if ((id & 0xFFFF) == 0xFFFF) {
                if (fn == 0)
                    break;
                continue;
            }
            uint32_t class_rev = read(dev, fn, 0x08);
            uint32_t header = (read(dev, fn, 0x0C) >> 16) & 0xFF;
            uint32_t bar0 = read(dev, fn, 0x10);
            kprintf("pci: %s00:%02x.%u vendor=%04x device=%04x class=%06x header=%02x bar0=0x%08x\n",
                    prefix, dev, fn, id & 0xFFFF, id >> 16, class_rev >> 8, header, bar0);
            functions++;
            if (fn == 0 && !(header & 0x80))
                break; /* single-function device */
        }
    }
    return functions;
}

/* Byte and word reads at 0xCFC+n must agree with the dword read. */
static void check_sub_dword_reads(void)
{
    uint32_t id = config_read32(0, 0, 0x00);
    outl(0xCF8, cf8_address(0, 0, 0x00));
    uint32_t words = (uint32_t)inw(0xCFC) | (uint32_t)inw(0xCFE) << 16;
    uint32_t bytes = (uint32_t)inb(0xCFC) | (uint32_t)inb(0xCFD) << 8 |
                     (uint32_t)inb(0xCFE) << 16 | (uint32_t)inb(0xCFF) << 24;
    kprintf("pci: cfc sub-dword reads %s\n", words == id && bytes == id ? "ok" : "mismatch");
}

/* Writes through one mechanism are seen through the other; read-only ids stay put. */
static void check_cross_mechanism_writes(void)
{
    uint32_t id = config_read32(0, 0, 0x00);
    ecam_write32(0, 0, 0x00, 0);
    kprintf("pci: vendor-id write %s\n", config_read32(0, 0, 0x00) == id ? "ignored" : "took effect");

    uint32_t command = config_read32(0, 0, 0x04) & 0xFFFF;
    uint32_t flipped = command ^ 0x0100; /* SERR# enable */
    ecam_write32(0, 0, 0x04, flipped);
    int seen = (config_read32(0, 0, 0x04) & 0xFFFF) == flipped;
    config_write32(0, 0, 0x04, command);
    int restored = (ecam_read32(0, 0, 0x04) & 0xFFFF) == command;
    kprintf("pci: command write ecam->cf8 %s, cf8->ecam %s\n", seen ? "ok" : "lost", restored ? "ok" : "lost");
}

/* MCFG allocation entries after the first: base u64, segment u16, start bus, end bus, reserved u32. */
static void scan_further_segments(const struct acpi_header *mcfg, const uint8_t *entry)
{
    for (; entry + 16 <= (const uint8_t *)mcfg + mcfg->length; entry += 16) {
        ecam_base = *(const uint64_t *)entry;
        uint16_t segment = *(const uint16_t *)(entry + 8);
        char prefix[16] = "seg";
        int n = 3;
        if (segment >= 10)
            prefix[n++] = (char)('0' + segment / 10 % 10);
        prefix[n++] = (char)('0' + segment % 10);
        prefix[n++] = ' ';
        prefix[n] = '\0';
        kprintf("pci: segment=%u ecam base=0x%lx\n", segment, ecam_base);
        kprintf("pci: segment=%u functions=%d\n", segment, scan(prefix, ecam_read32));
    }
}

void guest_main(void)
{
    kprintf("pci: guest kit pci started\n");
    kprintf("pci: functions=%d\n", scan("", config_read32));

    const struct acpi_header *mcfg = acpi_find_table("MCFG");
    const uint8_t *entry = mcfg ? (const uint8_t *)mcfg + sizeof(*mcfg) + 8 : 0;
    if (!entry || entry + 16 > (const uint8_t *)mcfg + mcfg->length) {
        kprintf("pci: ecam none\n");
    } else {
        ecam_base = *(const uint64_t *)entry;
        kprintf("pci: ecam base=0x%lx\n", ecam_base);
        kprintf("pci: ecam functions=%d\n", scan("ecam ", ecam_read32));
        if ((config_read32(0, 0, 0x00) & 0xFFFF) != 0xFFFF) {
            check_sub_dword_reads();
            check_cross_mechanism_writes();
        }
        scan_further_segments(mcfg, entry + 16);
    }
    kprintf("pci: done\n");
}
