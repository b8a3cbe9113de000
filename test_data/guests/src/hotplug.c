/* hotplug: the guest side of Cloud Hypervisor's ACPI PCI hotplug, acting as the OS.
 *
 * It finds in the DSDT the GED (\_SB_.GEC_ region GDST, \_SB_.GED_ interrupt) and
 * the PCI hotplug controller (\_SB_.PHPR region PCST: dwords PCIU, PCID, B0EJ,
 * PSEG), routes the GED pin and waits. On a GED interrupt whose status has the
 * PCI bit (0x04) it selects segment 0 in PSEG and reads PCIU (slots that came
 * up) and PCID (slots to eject); both clear on read. For a slot that came up it
 * drives the virtio-blk function there with the polling driver and prints
 * "hotplug: added slot=N blk sector0-crc=0x........"; for a slot to eject it
 * writes the slot's bit to B0EJ and prints "hotplug: ejected slot=N". Discovery
 * and the driver run in ring 3 (user_call). Prints "hotplug: ready" once set up,
 * "hotplug: controller none" without a PHPR region. */
#include "runtime.h"

#define GED_VECTOR 0x2D
#define GED_PCI_DEVICES_CHANGED 0x04
#define PHPR_PCIU 0
#define PHPR_PCID 4
#define PHPR_B0EJ 8
#define PHPR_PSEG 12
#define MAX_DEVICES 16
#define QUEUE_SIZE 16
#define TIMEOUT_CYCLES (10ull * 1000 * 1000 * 1000)
#define SECTOR 512
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_S_OK 0

/* What the DSDT says about the GED and the hotplug controller; filled in ring 3 (see find_ged). */
struct ged_info {
    const struct acpi_header *dsdt;
    struct aml_region status;
    struct aml_region hotplug;
    bool have_irq;
    uint32_t irq;
};

struct blk_request_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static uint64_t ged_address, phpr_address;
static volatile uint8_t pending_status;
static struct virtio_pci devices[MAX_DEVICES];
static int device_count;
static uint8_t blk_queue_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t sector0[SECTOR] __attribute__((aligned(4096)));
static struct blk_request_header blk_header;
static volatile uint8_t blk_status;

/* Runs in ring 3, where the byte-by-byte scan costs nothing (see user_call). */
static uint64_t find_ged(uint64_t arg)
{
    struct ged_info *ged = (struct ged_info *)arg;
    aml_find_region(ged->dsdt, "GDST", &ged->status);
    aml_find_region(ged->dsdt, "PCST", &ged->hotplug);
    ged->have_irq = aml_find_device_irq(ged->dsdt, "GED_", &ged->irq);
    return 0;
}

/* ---- the hot-plugged virtio-blk function ---- */

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    device_count = virtio_pci_scan(devices, MAX_DEVICES);
    return 0;
}

/* Ring 3: reads sector 0 of the blk function d; its CRC-32, or -1. */
static uint64_t read_sector0(uint64_t arg)
{
    struct virtio_pci *d = (struct virtio_pci *)arg;
    struct virtq q;
    if (!virtio_start(d, 0) || !virtq_setup(d, &q, 0, QUEUE_SIZE, blk_queue_memory) || (virtio_driver_ok(d) & 0xC0))
        return ~0ull;
    blk_header = (struct blk_request_header){ VIRTIO_BLK_T_IN, 0, 0 };
    blk_status = 0xFF;
    struct virtq_buffer chain[3] = {
        { &blk_header, sizeof(blk_header), false },
        { sector0, SECTOR, true },
        { (void *)&blk_status, 1, true },
    };
    if (virtq_transfer(&q, chain, 3, TIMEOUT_CYCLES) < 0 || blk_status != VIRTIO_BLK_S_OK)
        return ~0ull;
    return crc32_update(0, sector0, SECTOR);
}

static void slot_added(int slot)
{
    user_call(discover, 0);
    for (int i = 0; i < device_count; i++) {
        struct virtio_pci *d = &devices[i];
        if (d->dev != slot)
            continue;
        if (d->type != VIRTIO_TYPE_BLOCK) {
            kprintf("hotplug: added slot=%d type=%s\n", slot, virtio_type_name(d->type));
            return;
        }
        if (!virtio_pci_map(d)) {
            kprintf("hotplug: added slot=%d blk map failed common=0x%lx notify=0x%lx isr=0x%lx device=0x%lx\n",
                    slot, d->common, d->notify, d->isr, d->device);
            return;
        }
        uint64_t crc = user_call(read_sector0, (uint64_t)d);
        if (crc == ~0ull)
            kprintf("hotplug: added slot=%d blk read failed\n", slot);
        else
            kprintf("hotplug: added slot=%d blk sector0-crc=0x%08lx\n", slot, crc);
        return;
    }
    kprintf("hotplug: added slot=%d no virtio function\n", slot);
}

/* ---- interrupts ---- */

static void on_ged_interrupt(uint64_t vector)
{
    (void)vector;
    pending_status |= mmio_read8(ged_address);
}

/* What PSCN would do: the segment's pending slots, each notified (here: handled). */
static void scan_slots(void)
{
    mmio_write32(phpr_address + PHPR_PSEG, 0);
    uint32_t up = mmio_read32(phpr_address + PHPR_PCIU);
    uint32_t down = mmio_read32(phpr_address + PHPR_PCID);
    kprintf("hotplug: scan up=0x%08x down=0x%08x\n", up, down);
    for (int slot = 0; slot < 32; slot++) {
        if (up & (1u << slot))
            slot_added(slot);
        if (down & (1u << slot)) {
            mmio_write32(phpr_address + PHPR_B0EJ, 1u << slot);
            kprintf("hotplug: ejected slot=%d\n", slot);
        }
    }
}

static bool setup(void)
{
    struct ged_info ged = { .dsdt = acpi_find_table("DSDT") };
    if (ged.dsdt)
        user_call(find_ged, (uint64_t)&ged);
    if (!ged.status.found || !ged.have_irq) {
        kprintf("hotplug: ged none\n");
        return false;
    }
    if (!ged.hotplug.found || ged.hotplug.space != ACPI_SPACE_MEMORY || ged.hotplug.length != 0x10) {
        kprintf("hotplug: controller none\n");
        return false;
    }
    uint32_t entries = ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xFF) + 1;
    if (ged.irq >= entries || !map_high_page(ged.status.address) || !map_high_page(ged.hotplug.address)) {
        kprintf("hotplug: unusable ged=0x%lx phpr=0x%lx irq=%u\n", ged.status.address, ged.hotplug.address, ged.irq);
        return false;
    }
    ged_address = ged.status.address;
    phpr_address = ged.hotplug.address;
    set_interrupt_handler(GED_VECTOR, on_ged_interrupt);
    uint32_t low = IOAPIC_TABLE + 2 * ged.irq;
    ioapic_write(low + 1, 0u << 24); /* destination APIC ID 0 */
    ioapic_write(low, GED_VECTOR);   /* fixed, physical, edge, active high, unmasked */
    kprintf("hotplug: ged=0x%lx irq=%u phpr=0x%lx\n", ged_address, ged.irq, phpr_address);
    return true;
}

void guest_main(void)
{
    pic_mask_all();
    kprintf("hotplug: guest kit hotplug started\n");
    lapic_enable();
    bool ready = setup();
    if (ready)
        kprintf("hotplug: ready\n");
    for (;;) {
        __asm__ volatile("sti; hlt; cli");
        uint8_t status = pending_status;
        pending_status = 0;
        if (ready && (status & GED_PCI_DEVICES_CHANGED))
            scan_slots();
    }
}
