/* Guest kit runtime: the small API every guest is written against. */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* ---- the guest ---- */

/* Each guest defines this; the runtime shuts the VM down when it returns. */
void guest_main(void);

/* ---- CPU and port I/O ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* A pointer to a guest-physical address (identity mapped). The empty asm hides
 * the constant from gcc, which otherwise flags small constant addresses. */
static inline void *phys(uint64_t addr)
{
    __asm__("" : "+r"(addr));
    return (void *)addr;
}

static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)phys(a); }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)phys(a); }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)phys(a); }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)phys(a) = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)phys(a) = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)phys(a) = v; }

__attribute__((noreturn)) void halt_forever(void);

/* GDT/TSS/IDT. Called by the runtime before guest_main. */
void cpu_init(void);

/* Runs fn(arg) in ring 3 with IOPL=3 (port I/O allowed) and interrupts off,
 * returning fn's result. Ring-3 code runs natively even where the hypervisor
 * emulates ring 0, so heavy loops belong here. */
uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg);

/* Remaps and masks the 8259 PICs (so nothing arrives on exception vectors). */
void pic_mask_all(void);

/* Interrupts counted by the default handler for vectors >= 32. */
extern volatile uint64_t interrupt_count;

/* Software-enables the local APIC (it resets disabled and then accepts no
 * fixed interrupts), spurious vector 0xFF. */
void lapic_enable(void);

/* Programs LVT LINT1 as an unmasked NMI input, as an OS does (QEMU's monitor
 * `nmi` reaches a vCPU only through LINT1 so programmed). */
void lapic_lint1_nmi(void);

/* Runs fn(vector) for interrupts on vector (>= 32) before the LAPIC EOI. */
typedef void (*interrupt_handler)(uint64_t vector);
void set_interrupt_handler(uint8_t vector, interrupt_handler fn);

/* Runs fn() on each NMI (vector 2; no EOI). Without one, NMIs are ignored.
 * It may interrupt anything, so it should only touch its own state. */
typedef void (*nmi_handler)(void);
void set_nmi_handler(nmi_handler fn);

/* Maps the 2 MiB page holding phys (above the 4 GiB identity map) uncached,
 * at the same address; returns false if phys is beyond 48 bits or needs a
 * spare table already taken: one PDPT (one 512 GiB region) and two PDs (two
 * 1 GiB regions, e.g. Cloud Hypervisor's platform area and its 64-bit BARs). */
bool map_high_page(uint64_t phys);

/* ---- application processors (smp.c, ap.S) ---- */

/* Interrupt command register values (low word) for starting an AP. */
#define ICR_INIT_ASSERT     0x0000C500u /* INIT, level-triggered, assert */
#define ICR_INIT_DEASSERT   0x00008500u /* INIT, level-triggered, deassert */
#define ICR_STARTUP         0x00000600u /* start-up IPI; | vector (page number of the code) */

/* This CPU's local APIC ID (xAPIC or x2APIC, whichever mode it is in). */
uint32_t lapic_id(void);

/* Sends an IPI: command is the ICR low word, to physical destination apic_id. */
void lapic_send_ipi(uint32_t apic_id, uint32_t command);

/* Copies the AP trampoline to AP_TRAMPOLINE (the caller checks that it is free
 * RAM) and makes every AP started there call fn(index) in long mode, on its own
 * stack (index counts APs in arrival order), on this CPU's GDT, IDT and page
 * tables; interrupts stay off. When fn returns the AP halts with `cli; hlt`. */
void ap_prepare(void (*fn)(uint32_t index));

void spin_lock(volatile uint32_t *lock);
void spin_unlock(volatile uint32_t *lock);

/* ---- IOAPIC (0xFEC00000) ---- */

#define IOAPIC_VERSION 0x01
#define IOAPIC_TABLE 0x10   /* redirection entry n: low word at IOAPIC_TABLE + 2n, high word + 1 */

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t value);

/* ---- boot information ---- */

extern uint32_t boot_protocol;            /* BOOT_PVH / BOOT_LINUX32 / BOOT_LINUX64 */
extern uint32_t boot_info;                /* hvm_start_info or boot_params address */
extern uint32_t boot_via_realmode_setup;  /* 1 when bzimage/setup.S ran first */

const char *boot_protocol_name(void);     /* "pvh" or "linux" */
const char *boot_entry_name(void);        /* "pvh32", "linux32" or "linux64" */
const char *boot_cmdline(void);           /* never NULL */
uint64_t boot_rsdp_hint(void);            /* 0 when the loader gave none */

struct mem_region {
    uint64_t base;
    uint64_t size;
    uint32_t type;
};
#define MEM_TYPE_RAM 1

/* Fills up to max regions; returns the number the loader reported. */
int boot_memmap(struct mem_region *out, int max);

/* "key=value" lookup on the command line; value in decimal or 0x-hex. */
bool cmdline_get_u64(const char *key, uint64_t *value);
bool cmdline_has_word(const char *word);

/* ---- console (16550 at 0x3f8, transmit-only) ---- */

void serial_putc(char c);
void serial_write(const char *s);
/* %s %c %d %i %u %x %p %%, flag 0, width, .precision (strings), length l/ll/z. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* ---- strings ---- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- ACPI ---- */

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;
    uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
    uint8_t space_id;   /* 0 SystemMemory, 1 SystemIO */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
} __attribute__((packed));

#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO     1

bool acpi_checksum_ok(const void *p, size_t len);
const struct acpi_rsdp *acpi_find_rsdp(void);          /* NULL if none */
/* XSDT, or RSDT when there is no XSDT; NULL if none. */
const struct acpi_header *acpi_root_table(void);
int acpi_table_count(void);
const struct acpi_header *acpi_table_at(int index);
/* A table by signature; "DSDT" is found through the FADT. */
const struct acpi_header *acpi_find_table(const char *signature);
/* SLP_TYPa of \_S5 from the DSDT, or -1. */
int acpi_s5_sleep_type(void);

/* Shuts the VM down through the FADT; prints "shutdown failed: ..." otherwise. */
__attribute__((noreturn)) void acpi_shutdown(void);

/* ---- AML scanning (aml.c): constant regions and device interrupts in a DSDT; ring 3 only (slow in ring 0) ---- */

struct aml_region {
    bool found;
    uint8_t space;
    uint64_t address;
    uint64_t length;
};

/* OperationRegion `name` (4 characters) with constant offset and length. */
void aml_find_region(const struct acpi_header *table, const char *name, struct aml_region *region);

/* The first interrupt (Extended Interrupt or IRQ descriptor) in Device (`device`)'s _CRS buffer. */
bool aml_find_device_irq(const struct acpi_header *table, const char *device, uint32_t *irq);

/* ---- virtio-pci modern, polling (virtio.c) ----
 * Bus 0 only, through 0xCF8/0xCFC or, when nothing answers there, ECAM at the
 * MCFG base. Everything except virtio_pci_map also works in ring 3 (user_call),
 * where polling loops run natively. One synchronous request at a time. */

#define VIRTIO_PCI_VENDOR        0x1AF4
#define VIRTIO_PCI_DEVICE_BASE   0x1040      /* modern device id = 0x1040 + virtio type */
#define VIRTIO_TYPE_NET          1
#define VIRTIO_TYPE_BLOCK        2
#define VIRTIO_TYPE_CONSOLE      3
#define VIRTIO_TYPE_RNG          4

#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_FAILED      0x80

#define VIRTIO_F_VERSION_1       (1ull << 32)

#define VIRTQ_DESC_F_NEXT        1
#define VIRTQ_DESC_F_WRITE       2
#define VIRTQ_MAX_SIZE           128         /* so one 4 KiB page holds a whole queue */
#define VIRTQ_MEMORY_BYTES       4096

struct virtio_pci {
    uint8_t dev, fn;              /* bus 0 */
    uint16_t type;                /* virtio device type (PCI device id - 0x1040) */
    bool bars_assigned;           /* the driver had to place an unassigned BAR itself */
    uint64_t common, notify, isr, device; /* MMIO addresses of the capabilities (0: absent) */
    uint32_t notify_multiplier;
    uint64_t features;            /* negotiated (virtio_start) */
};

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} __attribute__((packed));

struct virtq {
    uint16_t index, size;
    uint16_t next_avail, last_used;
    struct virtq_desc *desc;
    volatile uint16_t *avail;     /* flags, idx, ring[size], used_event */
    volatile uint8_t *used;       /* flags, idx, {id, len}[size], avail_event */
    uint64_t notify;              /* where the queue index is written to notify */
};

/* One buffer of a request chain: the device reads it, or writes it when device_writes. */
struct virtq_buffer {
    void *data;
    uint32_t len;
    bool device_writes;
};

/* "cf8", "ecam" or "none": how virtio_pci_scan reached configuration space. */
const char *virtio_pci_config_mechanism(void);

/* Finds up to max modern virtio functions on bus 0 (vendor 0x1AF4, device
 * 0x1040 + type), in slot order; places unassigned memory BARs in a free part
 * of 0xC0000000-0xE0000000, enables memory decoding and bus mastering and reads
 * the vendor capabilities. Returns the number found. */
int virtio_pci_scan(struct virtio_pci *out, int max);

/* Finds function 0 of vendor:device on bus 0: its slot and BAR 0 (memory
 * decoding enabled). False when absent. Works in ring 3. */
bool pci_find_function(uint16_t vendor, uint16_t device, int *dev, uint64_t *bar0);

/* Ring 0 only: maps the capability regions that lie above 4 GiB (map_high_page). */
bool virtio_pci_map(const struct virtio_pci *d);

/* Reset, ACKNOWLEDGE|DRIVER, accept VIRTIO_F_VERSION_1 plus whatever of wanted
 * the device offers, FEATURES_OK (checked). False, with FAILED set, otherwise. */
bool virtio_start(struct virtio_pci *d, uint64_t wanted);

/* Sets up split queue `index` with min(size, device maximum) entries (a power
 * of two) in memory, one zeroed 4 KiB-aligned VIRTQ_MEMORY_BYTES block; no MSI-X vector. */
bool virtq_setup(struct virtio_pci *d, struct virtq *q, uint16_t index, uint16_t size, void *memory);

/* Sets DRIVER_OK; returns the device status read back. */
uint8_t virtio_driver_ok(struct virtio_pci *d);
uint8_t virtio_status(const struct virtio_pci *d);

/* Posts one chain (count <= queue size, descriptors from 0: one chain in flight
 * per queue) and notifies, without waiting. */
void virtq_post(struct virtq *q, const struct virtq_buffer *buffers, int count);

/* Waits up to timeout_cycles for the next used element; its length, or -1. */
int64_t virtq_poll(struct virtq *q, uint64_t timeout_cycles);

/* Posts one chain (count <= queue size), notifies, polls the used ring up to
 * timeout_cycles TSC cycles. Returns the length the device reports written, or
 * -1 on timeout. */
int64_t virtq_transfer(struct virtq *q, const struct virtq_buffer *buffers, int count, uint64_t timeout_cycles);

/* virtio-net's control queue: VIRTIO_NET_CTRL_MQ / VQ_PAIRS_SET for `pairs` queue pairs. Returns the device's
 * ack (0 = VIRTIO_NET_OK), or -1 when it did not answer within timeout_cycles. */
int virtio_net_set_queue_pairs(struct virtq *ctrl, uint16_t pairs, uint64_t timeout_cycles);

/* Device-specific configuration (little endian), re-read until config_generation is stable. */
uint32_t virtio_config_read32(const struct virtio_pci *d, uint32_t offset);
uint64_t virtio_config_read64(const struct virtio_pci *d, uint32_t offset);

/* "net", "blk", "console", "rng", ... or "type<N>" (static buffer for the last). */
const char *virtio_type_name(uint16_t type);

/* CRC-32 (IEEE 802.3, as zlib's crc32): crc32_update(0, p, n) is the CRC of p[0..n). */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
