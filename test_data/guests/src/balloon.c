/* balloon: a polling virtio-balloon driver.
 *
 * Finds the first balloon device, accepts DEFLATE_ON_OOM and (with `report`
 * on the command line) REPORTING when offered, and follows the host's target
 * (num_pages): it inflates by handing over pages of its pool (RAM from 16 MiB
 * up, below 4 GiB), each first written with a marker so the host really had
 * it, in requests of up to 256 PFNs, writes `actual` after each request, and
 * deflates from the top of the balloon, counting how many returned pages read
 * back zeroed (the host dropped them). Once a target is reached it prints
 * `balloon: actual pages=N`, and waits (polling the configuration space) for
 * the next target, `follow=N` times (default 0); then, with `report`, it fills
 * 1 MiB of free pages with markers, reports them on the reporting queue and
 * counts how many read back zeroed. Everything but mapping the device above
 * 4 GiB runs in ring 3 (user_call), where loops run natively. */
#include "runtime.h"

#define VIRTIO_TYPE_BALLOON      5
#define BALLOON_F_DEFLATE_ON_OOM (1ull << 2)
#define BALLOON_F_REPORTING      (1ull << 5)
#define CONFIG_NUM_PAGES         0
#define CONFIG_ACTUAL            4
#define INFLATE_QUEUE            0
#define DEFLATE_QUEUE            1
#define REPORTING_QUEUE          2

#define PAGE_SIZE                4096ull
#define POOL_START               (16ull << 20)
#define REPORT_BYTES             (1ull << 20)
#define PFNS_PER_REQUEST         256
#define MARKER                   0x5A5A5A5A5A5A5A5Aull
#define TIMEOUT_CYCLES           (10ull * 1000 * 1000 * 1000)
#define WAIT_CYCLES              (200ull * 1000 * 1000 * 1000)
#define MAX_DEVICES              16

static struct virtio_pci devices[MAX_DEVICES];
static struct virtio_pci *balloon;
static struct virtq inflate_q, deflate_q, report_q;
static uint8_t inflate_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t deflate_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t report_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint32_t pfns[PFNS_PER_REQUEST];
static uint64_t pool_pages;   /* pages the balloon may take, from POOL_START */
static uint64_t report_start; /* REPORT_BYTES of free pages just above the pool */
static uint64_t inflated;     /* the balloon holds pool pages [0, inflated) */
static uint64_t deflated_zeroed, deflated_total;

static volatile uint64_t *page_at(uint64_t index)
{
    return (volatile uint64_t *)phys(POOL_START + index * PAGE_SIZE);
}

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    int count = virtio_pci_scan(devices, MAX_DEVICES);
    for (int i = 0; i < count && !balloon; i++)
        if (devices[i].type == VIRTIO_TYPE_BALLOON)
            balloon = &devices[i];
    return (uint64_t)count;
}

/* The pool: the RAM entry holding POOL_START, below 4 GiB, less the report range at its top. */
static bool find_pool(void)
{
    struct mem_region regions[32];
    int count = boot_memmap(regions, 32);
    for (int i = 0; i < count && i < 32; i++) {
        uint64_t end = regions[i].base + regions[i].size;
        if (regions[i].type != MEM_TYPE_RAM || regions[i].base > POOL_START || end <= POOL_START)
            continue;
        if (end > (4ull << 30))
            end = 4ull << 30;
        if (end - POOL_START < 2 * REPORT_BYTES)
            return false;
        report_start = (end - REPORT_BYTES) & ~(PAGE_SIZE - 1);
        pool_pages = (report_start - POOL_START) / PAGE_SIZE;
        return true;
    }
    return false;
}

static bool start_balloon(void)
{
    uint64_t wanted = BALLOON_F_DEFLATE_ON_OOM | (cmdline_has_word("report") ? BALLOON_F_REPORTING : 0);
    if (!virtio_start(balloon, wanted)) {
        kprintf("balloon: start failed status=0x%x\n", virtio_status(balloon));
        return false;
    }
    if (!virtq_setup(balloon, &inflate_q, INFLATE_QUEUE, 128, inflate_memory) ||
        !virtq_setup(balloon, &deflate_q, DEFLATE_QUEUE, 128, deflate_memory) ||
        ((balloon->features & BALLOON_F_REPORTING) &&
         !virtq_setup(balloon, &report_q, REPORTING_QUEUE, 32, report_memory))) {
        kprintf("balloon: queue setup failed\n");
        return false;
    }
    uint8_t status = virtio_driver_ok(balloon);
    kprintf("balloon: features=0x%lx status=0x%x pool-pages=%lu\n", balloon->features, status, pool_pages);
    return (status & 0xC0) == 0;
}

static uint32_t target_pages(void)
{
    return virtio_config_read32(balloon, CONFIG_NUM_PAGES);
}

/* One request of `count` pages: inflating hands over pages [inflated, inflated + count),
 * deflating takes back the top `count` pages. */
static bool balloon_request(bool inflate, uint64_t count)
{
    uint64_t first = inflate ? inflated : inflated - count;
    for (uint64_t i = 0; i < count; i++) {
        if (inflate)
            *page_at(first + i) = MARKER;
        pfns[i] = (uint32_t)((POOL_START >> 12) + first + i);
    }
    struct virtq_buffer buffer = { pfns, (uint32_t)(count * sizeof(uint32_t)), false };
    if (virtq_transfer(inflate ? &inflate_q : &deflate_q, &buffer, 1, TIMEOUT_CYCLES) < 0) {
        kprintf("balloon: %s timeout at pages=%lu\n", inflate ? "inflate" : "deflate", inflated);
        return false;
    }
    if (inflate) {
        inflated += count;
    } else {
        inflated -= count;
        for (uint64_t i = 0; i < count; i++)
            deflated_zeroed += *page_at(first + i) == 0;
        deflated_total += count;
    }
    mmio_write32(balloon->device + CONFIG_ACTUAL, (uint32_t)inflated);
    return true;
}

/* Inflates or deflates until the balloon holds `target` pages (capped to the pool). */
static bool follow_target(uint64_t target)
{
    if (target > pool_pages) {
        kprintf("balloon: target pages=%lu beyond pool, capped\n", target);
        target = pool_pages;
    }
    deflated_zeroed = deflated_total = 0;
    while (inflated != target) {
        bool inflate = inflated < target;
        uint64_t left = inflate ? target - inflated : inflated - target;
        if (!balloon_request(inflate, left < PFNS_PER_REQUEST ? left : PFNS_PER_REQUEST))
            return false;
    }
    if (deflated_total)
        kprintf("balloon: deflated pages=%lu zeroed=%lu\n", deflated_total, deflated_zeroed);
    kprintf("balloon: actual pages=%lu\n", inflated);
    return true;
}

/* Polls num_pages until it differs from `current`; false after WAIT_CYCLES. */
static bool wait_for_new_target(uint32_t current, uint32_t *next)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < WAIT_CYCLES) {
        uint32_t value = target_pages();
        if (value != current) {
            *next = value;
            return true;
        }
        for (int i = 0; i < 10000; i++)
            __asm__ volatile("pause");
    }
    return false;
}

static void report_free_pages(void)
{
    if (!(balloon->features & BALLOON_F_REPORTING)) {
        kprintf("balloon: reporting not offered\n");
        return;
    }
    uint64_t pages = REPORT_BYTES / PAGE_SIZE;
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)phys(report_start + i * PAGE_SIZE) = MARKER;
    /* As Linux does, each free range goes as a device-writable buffer. */
    struct virtq_buffer range = { phys(report_start), (uint32_t)REPORT_BYTES, true };
    int64_t length = virtq_transfer(&report_q, &range, 1, TIMEOUT_CYCLES);
    uint64_t zeroed = 0;
    for (uint64_t i = 0; i < pages; i++)
        zeroed += *(volatile uint64_t *)phys(report_start + i * PAGE_SIZE) == 0;
    kprintf("balloon: reported bytes=%ld zeroed=%lu of %lu\n", length, zeroed, pages);
}

static uint64_t run(uint64_t unused)
{
    (void)unused;
    if (!find_pool()) {
        kprintf("balloon: no RAM for a pool at 0x%lx\n", (uint64_t)POOL_START);
        return 0;
    }
    if (!start_balloon())
        return 0;
    uint64_t follow = 0;
    cmdline_get_u64("follow", &follow);
    uint32_t target = target_pages();
    kprintf("balloon: target pages=%u\n", target);
    if (!follow_target(target))
        return 0;
    for (uint64_t changes = 0; changes < follow; changes++) {
        if (!wait_for_new_target(target, &target)) {
            kprintf("balloon: no new target\n");
            return 0;
        }
        kprintf("balloon: target pages=%u\n", target);
        if (!follow_target(target))
            return 0;
    }
    if (cmdline_has_word("report"))
        report_free_pages();
    return 0;
}

void guest_main(void)
{
    kprintf("balloon: guest kit balloon started\n");
    user_call(discover, 0);
    if (!balloon) {
        kprintf("balloon: no balloon device\n");
    } else if (!virtio_pci_map(balloon)) {
        kprintf("balloon: map failed\n");
    } else {
        user_call(run, 0);
    }
    kprintf("balloon: done\n");
}
