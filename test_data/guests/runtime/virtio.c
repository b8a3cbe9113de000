/* virtio-pci modern transport (virtio 1.x, section 4.1) with split queues,
 * polled: no interrupts, no MSI-X vectors. See runtime.h for the API. */
#include "runtime.h"

/* PCI configuration space */
#define PCI_COMMAND          0x04
#define PCI_COMMAND_MEMORY   0x0002
#define PCI_COMMAND_MASTER   0x0004
#define PCI_STATUS           0x06
#define PCI_STATUS_CAPS      0x0010
#define PCI_HEADER_TYPE      0x0E
#define PCI_BAR0             0x10
#define PCI_CAP_POINTER      0x34
#define PCI_CAP_VENDOR       0x09

/* virtio_pci_cap.cfg_type */
#define CAP_COMMON           1
#define CAP_NOTIFY           2
#define CAP_ISR              3
#define CAP_DEVICE           4

/* virtio_pci_common_cfg */
#define COMMON_DEVICE_FEATURE_SELECT 0x00
#define COMMON_DEVICE_FEATURE        0x04
#define COMMON_DRIVER_FEATURE_SELECT 0x08
#define COMMON_DRIVER_FEATURE        0x0C
#define COMMON_STATUS                0x14
#define COMMON_CONFIG_GENERATION     0x15
#define COMMON_QUEUE_SELECT          0x16
#define COMMON_QUEUE_SIZE            0x18
#define COMMON_QUEUE_MSIX_VECTOR     0x1A
#define COMMON_QUEUE_ENABLE          0x1C
#define COMMON_QUEUE_NOTIFY_OFF      0x1E
#define COMMON_QUEUE_DESC            0x20
#define COMMON_QUEUE_DRIVER          0x28
#define COMMON_QUEUE_DEVICE          0x30
#define VIRTIO_NO_VECTOR             0xFFFF

/* Where unassigned BARs go: QEMU's and Cloud Hypervisor's 32-bit device windows both start here. */
#define BAR_WINDOW_START     0xC0000000ull
#define BAR_WINDOW_END       0xE0000000ull

#define RESET_POLLS          1000000

enum mechanism { MECHANISM_NONE, MECHANISM_CF8, MECHANISM_ECAM };

static enum mechanism mechanism;
static uint64_t ecam_base;
static uint64_t window_next; /* 0 until the window's free part is known */

/* ---- configuration space access, bus 0 ---- */

static uint32_t cf8_address(int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)(dev << 11) | (uint32_t)(fn << 8) | (uint32_t)(reg & 0xFC);
}

static uint64_t ecam_address(int dev, int fn, int reg)
{
    return ecam_base + ((uint64_t)dev << 15) + ((uint64_t)fn << 12) + (uint64_t)reg;
}

static uint32_t config_read32(int dev, int fn, int reg)
{
    if (mechanism == MECHANISM_ECAM)
        return mmio_read32(ecam_address(dev, fn, reg & 0xFFC));
    outl(0xCF8, cf8_address(dev, fn, reg));
    return inl(0xCFC);
}

static void config_write32(int dev, int fn, int reg, uint32_t value)
{
    if (mechanism == MECHANISM_ECAM) {
        mmio_write32(ecam_address(dev, fn, reg & 0xFFC), value);
        return;
    }
    outl(0xCF8, cf8_address(dev, fn, reg));
    outl(0xCFC, value);
}

static void config_write16(int dev, int fn, int reg, uint16_t value)
{
    if (mechanism == MECHANISM_ECAM) {
        mmio_write16(ecam_address(dev, fn, reg & 0xFFE), value);
        return;
    }
    outl(0xCF8, cf8_address(dev, fn, reg));
    outw((uint16_t)(0xCFC + (reg & 2)), value);
}

static uint8_t config_read8(int dev, int fn, int reg)
{
    return (uint8_t)(config_read32(dev, fn, reg) >> (8 * (reg & 3)));
}

static uint16_t config_read16(int dev, int fn, int reg)
{
    return (uint16_t)(config_read32(dev, fn, reg) >> (8 * (reg & 2)));
}

static uint64_t aml_constant(const uint8_t *p)
{
    int bytes = p[0] == 0x0A ? 1 : p[0] == 0x0B ? 2 : p[0] == 0x0C ? 4 : p[0] == 0x0E ? 8 : 0;
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++)
        value |= (uint64_t)p[1 + i] << (8 * i);
    return value;
}

/* ECAM base from the DSDT's _CBA, as `Name (_CBA, constant)` or, as QEMU's
 * microvm has it (no MCFG there), `Method (_CBA) { Return (constant) }`; 0 if none. */
static uint64_t dsdt_cba(void)
{
    const struct acpi_header *dsdt = acpi_find_table("DSDT");
    if (!dsdt)
        return 0;
    const uint8_t *start = (const uint8_t *)dsdt + sizeof(*dsdt);
    const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
    for (const uint8_t *p = start + 3; p + 15 <= end; p++) {
        if (p[0] != '_' || p[1] != 'C' || p[2] != 'B' || p[3] != 'A')
            continue;
        uint64_t value = 0;
        if (p[-1] == 0x08) /* NameOp */
            value = aml_constant(p + 4);
        else if ((p[-2] == 0x14 || p[-3] == 0x14) && p[5] == 0xA4) /* MethodOp ... flags, ReturnOp */
            value = aml_constant(p + 6);
        if (value)
            return value;
    }
    return 0;
}

static void choose_mechanism(void)
{
    mechanism = MECHANISM_CF8;
    if ((config_read32(0, 0, 0) & 0xFFFF) != 0xFFFF)
        return;
    const struct acpi_header *mcfg = acpi_find_table("MCFG");
    const uint8_t *entry = mcfg ? (const uint8_t *)mcfg + sizeof(*mcfg) + 8 : 0;
    if (entry && entry + 16 <= (const uint8_t *)mcfg + mcfg->length)
        ecam_base = *(const uint64_t *)entry;
    else
        ecam_base = dsdt_cba();
    mechanism = ecam_base && !(ecam_base >> 32) ? MECHANISM_ECAM : MECHANISM_NONE;
}

const char *virtio_pci_config_mechanism(void)
{
    return mechanism == MECHANISM_CF8 ? "cf8" : mechanism == MECHANISM_ECAM ? "ecam" : "none";
}

/* ---- BARs ---- */

static bool bar_is_64bit(uint32_t low) { return (low & 0x7) == 0x4; }

static uint64_t bar_address(int dev, int fn, int bar)
{
    uint32_t low = config_read32(dev, fn, PCI_BAR0 + 4 * bar);
    if (low & 1)
        return 0; /* I/O BAR */
    uint64_t address = low & ~0xFull;
    if (bar_is_64bit(low) && bar < 5)
        address |= (uint64_t)config_read32(dev, fn, PCI_BAR0 + 4 * (bar + 1)) << 32;
    return address;
}

/* Size of a memory BAR by the all-ones probe, with decoding off meanwhile. */
static uint64_t bar_size(int dev, int fn, int bar)
{
    int reg = PCI_BAR0 + 4 * bar;
    uint32_t low = config_read32(dev, fn, reg);
    bool wide = bar_is_64bit(low) && bar < 5;
    uint32_t high = wide ? config_read32(dev, fn, reg + 4) : 0;
    uint16_t command = config_read16(dev, fn, PCI_COMMAND);
    config_write16(dev, fn, PCI_COMMAND, (uint16_t)(command & ~PCI_COMMAND_MEMORY));
    config_write32(dev, fn, reg, 0xFFFFFFFFu);
    uint64_t mask = config_read32(dev, fn, reg) & ~0xFull;
    config_write32(dev, fn, reg, low);
    if (wide) {
        config_write32(dev, fn, reg + 4, 0xFFFFFFFFu);
        mask |= (uint64_t)config_read32(dev, fn, reg + 4) << 32;
        config_write32(dev, fn, reg + 4, high);
    } else {
        mask |= 0xFFFFFFFF00000000ull;
    }
    config_write16(dev, fn, PCI_COMMAND, command);
    return mask ? ~mask + 1 : 0;
}

static bool function_present(int dev, int fn)
{
    return (config_read32(dev, fn, 0) & 0xFFFF) != 0xFFFF;
}

static bool multi_function(int dev)
{
    return (config_read8(dev, 0, PCI_HEADER_TYPE) & 0x80) != 0;
}

/* The window's free part starts above every memory BAR already inside it. */
static void find_window_free_part(void)
{
    window_next = BAR_WINDOW_START;
    for (int dev = 0; dev < 32; dev++) {
        for (int fn = 0; fn < 8 && function_present(dev, fn); fn++) {
            if ((config_read8(dev, fn, PCI_HEADER_TYPE) & 0x7F) == 0) {
                for (int bar = 0; bar < 6; bar++) {
                    uint32_t low = config_read32(dev, fn, PCI_BAR0 + 4 * bar);
                    uint64_t address = bar_address(dev, fn, bar);
                    if (address >= BAR_WINDOW_START && address < BAR_WINDOW_END) {
                        uint64_t end = address + bar_size(dev, fn, bar);
                        if (end > window_next)
                            window_next = end;
                    }
                    if (bar_is_64bit(low))
                        bar++;
                }
            }
            if (fn == 0 && !multi_function(dev))
                break;
        }
    }
}

/* Places an unassigned memory BAR in the window (naturally aligned); 0 if it does not fit. */
static uint64_t assign_bar(int dev, int fn, int bar)
{
    uint64_t size = bar_size(dev, fn, bar);
    if (!size)
        return 0;
    if (!window_next)
        find_window_free_part();
    uint64_t address = (window_next + size - 1) & ~(size - 1);
    if (address + size > BAR_WINDOW_END)
        return 0;
    window_next = address + size;
    int reg = PCI_BAR0 + 4 * bar;
    uint32_t low = config_read32(dev, fn, reg);
    config_write32(dev, fn, reg, (uint32_t)address | (low & 0xF));
    if (bar_is_64bit(low) && bar < 5)
        config_write32(dev, fn, reg + 4, 0);
    return address;
}

/* ---- discovery ---- */

static void read_capabilities(struct virtio_pci *d)
{
    if (!(config_read16(d->dev, d->fn, PCI_STATUS) & PCI_STATUS_CAPS))
        return;
    uint64_t bars[6] = { 0 };
    bool bars_read[6] = { false };
    int cap = config_read8(d->dev, d->fn, PCI_CAP_POINTER) & 0xFC;
    for (int guard = 0; cap && guard < 48; guard++) {
        uint32_t head = config_read32(d->dev, d->fn, cap);
        int next = (head >> 8) & 0xFC;
        if ((head & 0xFF) == PCI_CAP_VENDOR) {
            int type = (int)(head >> 24);
            int bar = config_read8(d->dev, d->fn, cap + 4);
            uint32_t offset = config_read32(d->dev, d->fn, cap + 8);
            uint64_t *slot = type == CAP_COMMON ? &d->common : type == CAP_NOTIFY ? &d->notify :
                             type == CAP_ISR ? &d->isr : type == CAP_DEVICE ? &d->device : 0;
            if (slot && !*slot && bar < 6) {
                if (!bars_read[bar]) {
                    bars[bar] = bar_address(d->dev, d->fn, bar);
                    if (!bars[bar]) {
                        bars[bar] = assign_bar(d->dev, d->fn, bar);
                        d->bars_assigned |= bars[bar] != 0;
                    }
                    bars_read[bar] = true;
                }
                if (bars[bar])
                    *slot = bars[bar] + offset;
                if (type == CAP_NOTIFY)
                    d->notify_multiplier = config_read32(d->dev, d->fn, cap + 16);
            }
        }
        cap = next;
    }
}

int virtio_pci_scan(struct virtio_pci *out, int max)
{
    choose_mechanism();
    if (mechanism == MECHANISM_NONE)
        return 0;
    int found = 0;
    for (int dev = 0; dev < 32 && found < max; dev++) {
        for (int fn = 0; fn < 8 && found < max; fn++) {
            uint32_t id = config_read32(dev, fn, 0);
            if ((id & 0xFFFF) == 0xFFFF) {
                if (fn == 0)
                    break;
                continue;
            }
            uint16_t device = (uint16_t)(id >> 16);
            if ((id & 0xFFFF) == VIRTIO_PCI_VENDOR && device >= VIRTIO_PCI_DEVICE_BASE && device < 0x107F) {
                struct virtio_pci *d = &out[found++];
                memset(d, 0, sizeof(*d));
                d->dev = (uint8_t)dev;
                d->fn = (uint8_t)fn;
                d->type = (uint16_t)(device - VIRTIO_PCI_DEVICE_BASE);
                read_capabilities(d);
                uint16_t command = config_read16(dev, fn, PCI_COMMAND);
                config_write16(dev, fn, PCI_COMMAND, command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
            }
            if (fn == 0 && !multi_function(dev))
                break;
        }
    }
    return found;
}

bool pci_find_function(uint16_t vendor, uint16_t device, int *dev_out, uint64_t *bar0)
{
    choose_mechanism();
    if (mechanism == MECHANISM_NONE)
        return false;
    for (int dev = 0; dev < 32; dev++) {
        if (config_read32(dev, 0, 0) != ((uint32_t)device << 16 | vendor))
            continue;
        *dev_out = dev;
        *bar0 = bar_address(dev, 0, 0);
        config_write16(dev, 0, PCI_COMMAND, config_read16(dev, 0, PCI_COMMAND) | PCI_COMMAND_MEMORY);
        return true;
    }
    return false;
}

bool virtio_pci_map(const struct virtio_pci *d)
{
    const uint64_t regions[] = { d->common, d->notify, d->isr, d->device };
    for (int i = 0; i < 4; i++) {
        uint64_t address = regions[i];
        if (address >> 32 && !(map_high_page(address) && map_high_page(address + 0xFFF)))
            return false;
    }
    return true;
}

/* ---- device status and features ---- */

uint8_t virtio_status(const struct virtio_pci *d)
{
    return mmio_read8(d->common + COMMON_STATUS);
}

static void set_status(const struct virtio_pci *d, uint8_t bits)
{
    mmio_write8(d->common + COMMON_STATUS, (uint8_t)(virtio_status(d) | bits));
}

static uint64_t device_features(const struct virtio_pci *d)
{
    mmio_write32(d->common + COMMON_DEVICE_FEATURE_SELECT, 0);
    uint64_t low = mmio_read32(d->common + COMMON_DEVICE_FEATURE);
    mmio_write32(d->common + COMMON_DEVICE_FEATURE_SELECT, 1);
    return low | (uint64_t)mmio_read32(d->common + COMMON_DEVICE_FEATURE) << 32;
}

bool virtio_start(struct virtio_pci *d, uint64_t wanted)
{
    if (!d->common || !d->notify)
        return false;
    mmio_write8(d->common + COMMON_STATUS, 0);
    int polls = 0;
    while (virtio_status(d) != 0)
        if (++polls == RESET_POLLS)
            return false;
    set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(d, VIRTIO_STATUS_DRIVER);
    d->features = device_features(d) & (VIRTIO_F_VERSION_1 | wanted);
    if (!(d->features & VIRTIO_F_VERSION_1)) {
        set_status(d, VIRTIO_STATUS_FAILED);
        return false;
    }
    mmio_write32(d->common + COMMON_DRIVER_FEATURE_SELECT, 0);
    mmio_write32(d->common + COMMON_DRIVER_FEATURE, (uint32_t)d->features);
    mmio_write32(d->common + COMMON_DRIVER_FEATURE_SELECT, 1);
    mmio_write32(d->common + COMMON_DRIVER_FEATURE, (uint32_t)(d->features >> 32));
    set_status(d, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
        set_status(d, VIRTIO_STATUS_FAILED);
        return false;
    }
    return true;
}

uint8_t virtio_driver_ok(struct virtio_pci *d)
{
    set_status(d, VIRTIO_STATUS_DRIVER_OK);
    return virtio_status(d);
}

/* ---- queues ---- */

static void write64(uint64_t address, uint64_t value)
{
    mmio_write32(address, (uint32_t)value);
    mmio_write32(address + 4, (uint32_t)(value >> 32));
}

bool virtq_setup(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size, void *memory)
{
    mmio_write16(d->common + COMMON_QUEUE_SELECT, index);
    uint16_t max = mmio_read16(d->common + COMMON_QUEUE_SIZE);
    if (max == 0)
        return false;
    uint16_t n = size < max ? size : max;
    if (n > VIRTQ_MAX_SIZE)
        n = VIRTQ_MAX_SIZE;
    while (n & (n - 1))
        n &= (uint16_t)(n - 1); /* a split queue's size is a power of two */
    if (n == 0)
        return false;

    uint8_t *base = memory;
    memset(base, 0, VIRTQ_MEMORY_BYTES);
    size_t avail_offset = 16u * n;
    size_t used_offset = (avail_offset + 6u + 2u * n + 3u) & ~(size_t)3;
    memset(q, 0, sizeof(*q));
    q->index = index;
    q->size = n;
    q->desc = (struct virtq_desc *)base;
    q->avail = (volatile uint16_t *)(base + avail_offset);
    q->used = base + used_offset;

    mmio_write16(d->common + COMMON_QUEUE_SIZE, n);
    mmio_write16(d->common + COMMON_QUEUE_MSIX_VECTOR, VIRTIO_NO_VECTOR);
    write64(d->common + COMMON_QUEUE_DESC, (uint64_t)q->desc);
    write64(d->common + COMMON_QUEUE_DRIVER, (uint64_t)q->avail);
    write64(d->common + COMMON_QUEUE_DEVICE, (uint64_t)q->used);
    uint16_t notify_off = mmio_read16(d->common + COMMON_QUEUE_NOTIFY_OFF);
    q->notify = d->notify + (uint64_t)notify_off * d->notify_multiplier;
    mmio_write16(d->common + COMMON_QUEUE_ENABLE, 1);
    return mmio_read16(d->common + COMMON_QUEUE_ENABLE) == 1;
}

void virtq_post(struct virtq *q, const struct virtq_buffer *buffers, int count)
{
    /* One chain in flight per queue: it always starts at descriptor 0. */
    for (int i = 0; i < count; i++) {
        struct virtq_desc *desc = &q->desc[i];
        desc->addr = (uint64_t)buffers[i].data;
        desc->len = buffers[i].len;
        desc->flags = (uint16_t)((i + 1 < count ? VIRTQ_DESC_F_NEXT : 0) |
                                 (buffers[i].device_writes ? VIRTQ_DESC_F_WRITE : 0));
        desc->next = (uint16_t)(i + 1 < count ? i + 1 : 0);
    }
    q->avail[2 + q->next_avail % q->size] = 0;
    __sync_synchronize();
    q->avail[1] = ++q->next_avail;
    __sync_synchronize();
    mmio_write16(q->notify, q->index);
}

int64_t virtq_poll(struct virtq *q, uint64_t timeout_cycles)
{
    volatile uint16_t *used_idx = (volatile uint16_t *)(q->used + 2);
    uint64_t start = rdtsc();
    while (*used_idx == q->last_used) {
        if (rdtsc() - start > timeout_cycles)
            return -1;
        __asm__ volatile("pause");
    }
    __sync_synchronize();
    volatile uint32_t *element = (volatile uint32_t *)(q->used + 4 + 8 * (q->last_used % q->size));
    q->last_used++;
    return element[1];
}

int64_t virtq_transfer(struct virtq *q, const struct virtq_buffer *buffers, int count, uint64_t timeout_cycles)
{
    if (count <= 0 || count > q->size)
        return -1;
    virtq_post(q, buffers, count);
    return virtq_poll(q, timeout_cycles);
}

/* ---- device configuration ---- */

uint32_t virtio_config_read32(const struct virtio_pci *d, uint32_t offset)
{
    uint8_t generation;
    uint32_t value;
    do {
        generation = mmio_read8(d->common + COMMON_CONFIG_GENERATION);
        value = mmio_read32(d->device + offset);
    } while (generation != mmio_read8(d->common + COMMON_CONFIG_GENERATION));
    return value;
}

uint64_t virtio_config_read64(const struct virtio_pci *d, uint32_t offset)
{
    uint8_t generation;
    uint64_t value;
    do {
        generation = mmio_read8(d->common + COMMON_CONFIG_GENERATION);
        value = mmio_read32(d->device + offset) | (uint64_t)mmio_read32(d->device + offset + 4) << 32;
    } while (generation != mmio_read8(d->common + COMMON_CONFIG_GENERATION));
    return value;
}

const char *virtio_type_name(uint16_t type)
{
    static char other[16];
    switch (type) {
    case VIRTIO_TYPE_NET: return "net";
    case VIRTIO_TYPE_BLOCK: return "blk";
    case VIRTIO_TYPE_CONSOLE: return "console";
    case VIRTIO_TYPE_RNG: return "rng";
    case 5: return "balloon";
    case 8: return "scsi";
    case 9: return "9p";
    case 16: return "gpu";
    case 18: return "input";
    case 19: return "vsock";
    case 23: return "iommu";
    case 24: return "mem";
    case 26: return "fs";
    case 27: return "pmem";
    case 35: return "watchdog";
    default: break;
    }
    char digits[6];
    int n = 0;
    do {
        digits[n++] = (char)('0' + type % 10);
        type /= 10;
    } while (type);
    memcpy(other, "type", 4);
    for (int i = 0; i < n; i++)
        other[4 + i] = digits[n - 1 - i];
    other[4 + n] = '\0';
    return other;
}

int virtio_net_set_queue_pairs(struct virtq *ctrl, uint16_t pairs, uint64_t timeout_cycles)
{
    enum { CTRL_MQ = 4, MQ_VQ_PAIRS_SET = 0 };
    static uint8_t header[2];
    static uint16_t pair_count;
    static volatile uint8_t ack;
    header[0] = CTRL_MQ;
    header[1] = MQ_VQ_PAIRS_SET;
    pair_count = pairs;
    ack = 0xFF;
    struct virtq_buffer command[3] = {
        { header, sizeof(header), false },
        { &pair_count, sizeof(pair_count), false },
        { (void *)&ack, 1, true },
    };
    return virtq_transfer(ctrl, command, 3, timeout_cycles) >= 0 ? ack : -1;
}
