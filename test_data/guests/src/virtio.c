/* virtio: polling drivers for the modern virtio-pci devices on bus 0.
 *
 * Discovery, driver setup and every polling loop run in ring 3 (user_call);
 * ring 0 only maps capability regions that lie above 4 GiB. The first rng
 * device reads `rng=N` bytes (default 64); the first blk device reports its
 * capacity and sector 0's CRC-32, with `blk-write=S` writes a pattern to sector
 * S (byte i = (i * 7 + S) mod 256), flushes and reads it back (`blk-persist=S`
 * does the same only when S lacks the pattern, then reboots), and with
 * `blk-crc` prints the CRC-32 of the whole disk (after that write). With
 * `console` on the command line the first console device (single port, no
 * MULTIPORT) transmits a line on port 0's transmitq and echoes one line read
 * from its receiveq (bounded wait) on the serial port. The first pmem device
 * reports its range and the CRC-32 of its first 4 KiB; `pmem-write=V` stores
 * byte V at offset 0, reads it back and sends a FLUSH. `watchdog=N` pets the
 * first watchdog N times, then the guest falls silent (halts) so the VMM's
 * watchdog resets it. `pvpanic=V` writes V to the pvpanic device (1b36:0011).
 * With `net` the first net device broadcasts a raw frame (ethertype 0x88b5)
 * until one of that type comes back, and with `net-echo=N` then returns N more
 * such frames to their senders. */
#include "runtime.h"

#define MAX_DEVICES       16
#define QUEUE_SIZE        16
#define TIMEOUT_CYCLES    (10ull * 1000 * 1000 * 1000)
#define SECTOR            512
#define CHUNK_SECTORS     64
#define DEFAULT_RNG_BYTES 64

#define VIRTIO_BLK_F_RO    (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK    0

struct blk_request_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#define VIRTIO_TYPE_PMEM     27
#define VIRTIO_TYPE_WATCHDOG 35
#define VIRTIO_PMEM_REQ_FLUSH 0
#define PVPANIC_VENDOR 0x1B36
#define PVPANIC_DEVICE 0x0011

static struct virtio_pci devices[MAX_DEVICES];
static uint64_t pmem_start, pmem_size;
static bool pmem_mapped;
static int device_count;
static bool mapped[MAX_DEVICES];

static uint8_t rng_queue_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t blk_queue_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t console_rx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t console_tx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t pmem_queue_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t watchdog_queue_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static char console_line[128];
static uint8_t data[CHUNK_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t readback[SECTOR] __attribute__((aligned(512)));
static struct blk_request_header blk_header;
static volatile uint8_t blk_status;

/* Brings a device to DRIVER_OK with queue 0 set up; prints why not otherwise. */
static bool start_device(struct virtio_pci *d, const char *name, uint64_t wanted, struct virtq *q, void *memory)
{
    if (!virtio_start(d, wanted)) {
        kprintf("virtio: %s start failed status=0x%x\n", name, virtio_status(d));
        return false;
    }
    if (!virtq_setup(d, q, 0, QUEUE_SIZE, memory)) {
        kprintf("virtio: %s queue setup failed\n", name);
        return false;
    }
    uint8_t status = virtio_driver_ok(d);
    kprintf("virtio: %s features=0x%lx queue-size=%u status=0x%x\n", name, d->features, q->size, status);
    return (status & 0xC0) == 0; /* neither FAILED nor DEVICE_NEEDS_RESET */
}

/* ---- rng ---- */

static void run_rng(struct virtio_pci *d)
{
    static struct virtq q;
    if (!start_device(d, "rng", 0, &q, rng_queue_memory))
        return;
    uint64_t wanted = DEFAULT_RNG_BYTES;
    if (cmdline_get_u64("rng", &wanted) && wanted > sizeof(data))
        wanted = sizeof(data);
    memset(data, 0, sizeof(data));
    uint64_t got = 0;
    for (int requests = 0; got < wanted && requests < 1000; requests++) {
        struct virtq_buffer buffer = { data + got, (uint32_t)(wanted - got), true };
        int64_t written = virtq_transfer(&q, &buffer, 1, TIMEOUT_CYCLES);
        if (written < 0) {
            kprintf("virtio: rng timeout after bytes=%lu\n", got);
            return;
        }
        got += (uint64_t)written;
    }
    uint64_t nonzero = 0;
    uint32_t fnv = 2166136261u; /* FNV-1a */
    for (uint64_t i = 0; i < got; i++) {
        nonzero += data[i] != 0;
        fnv = (fnv ^ data[i]) * 16777619u;
    }
    kprintf("virtio: rng bytes=%lu nonzero=%lu fnv1a=0x%08x\n", got, nonzero, fnv);
}

/* ---- blk ---- */

/* One request: header, optional data, status. False on timeout or a non-OK status. */
static bool blk_request(struct virtq *q, uint32_t type, uint64_t sector, void *buffer, uint32_t bytes)
{
    blk_header.type = type;
    blk_header.reserved = 0;
    blk_header.sector = sector;
    blk_status = 0xFF;
    struct virtq_buffer chain[3] = { { &blk_header, sizeof(blk_header), false } };
    int count = 1;
    if (bytes)
        chain[count++] = (struct virtq_buffer){ buffer, bytes, type == VIRTIO_BLK_T_IN };
    chain[count++] = (struct virtq_buffer){ (void *)&blk_status, 1, true };
    if (virtq_transfer(q, chain, count, TIMEOUT_CYCLES) < 0) {
        kprintf("virtio: blk timeout type=%u sector=%lu\n", type, sector);
        return false;
    }
    return blk_status == VIRTIO_BLK_S_OK;
}

static void blk_write_and_flush(struct virtq *q, const struct virtio_pci *d, uint64_t sector, uint64_t capacity)
{
    if (sector >= capacity) {
        kprintf("virtio: blk write sector=%lu beyond capacity\n", sector);
        return;
    }
    if (d->features & VIRTIO_BLK_F_RO) {
        kprintf("virtio: blk read-only\n");
        return;
    }
    for (int i = 0; i < SECTOR; i++)
        data[i] = (uint8_t)(i * 7 + sector);
    bool written = blk_request(q, VIRTIO_BLK_T_OUT, sector, data, SECTOR);
    if (!(d->features & VIRTIO_BLK_F_FLUSH))
        kprintf("virtio: blk flush unsupported\n");
    else
        kprintf("virtio: blk flush %s\n", blk_request(q, VIRTIO_BLK_T_FLUSH, 0, 0, 0) ? "ok" : "failed");
    memset(readback, 0, sizeof(readback));
    bool read = blk_request(q, VIRTIO_BLK_T_IN, sector, readback, SECTOR);
    kprintf("virtio: blk write sector=%lu %s\n", sector,
            !written ? "failed" : !read ? "readback-failed" : memcmp(data, readback, SECTOR) == 0 ? "ok" : "mismatch");
}

static void blk_disk_crc(struct virtq *q, uint64_t capacity)
{
    uint32_t crc = 0;
    for (uint64_t sector = 0; sector < capacity; sector += CHUNK_SECTORS) {
        uint64_t count = capacity - sector < CHUNK_SECTORS ? capacity - sector : CHUNK_SECTORS;
        if (!blk_request(q, VIRTIO_BLK_T_IN, sector, data, (uint32_t)(count * SECTOR))) {
            kprintf("virtio: blk read failed sector=%lu\n", sector);
            return;
        }
        crc = crc32_update(crc, data, count * SECTOR);
    }
    kprintf("virtio: blk disk-crc=0x%08x sectors=%lu\n", crc, capacity);
}

/* blk-persist=S: when sector S does not hold the blk-write pattern yet, writes it, flushes and resets the
 * machine through the i8042 (0xFE to port 0x64); after the reboot the pattern is found and the guest goes on. */
static void blk_persist_across_reboot(struct virtq *q, uint64_t sector, uint64_t capacity)
{
    if (sector >= capacity || !blk_request(q, VIRTIO_BLK_T_IN, sector, readback, SECTOR)) {
        kprintf("virtio: blk persist sector=%lu read failed\n", sector);
        return;
    }
    for (int i = 0; i < SECTOR; i++)
        data[i] = (uint8_t)(i * 7 + sector);
    if (memcmp(data, readback, SECTOR) == 0) {
        kprintf("virtio: blk persist sector=%lu found\n", sector);
        return;
    }
    bool written = blk_request(q, VIRTIO_BLK_T_OUT, sector, data, SECTOR) && blk_request(q, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    kprintf("virtio: blk persist sector=%lu %s\n", sector, written ? "written, rebooting" : "write failed");
    if (written)
        outb(0x64, 0xFE);
}

static void run_blk(struct virtio_pci *d)
{
    static struct virtq q;
    if (!start_device(d, "blk", VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO, &q, blk_queue_memory))
        return;
    uint64_t capacity = virtio_config_read64(d, 0);
    uint64_t first = capacity < 8 ? capacity : 8;
    if (first == 0 || !blk_request(&q, VIRTIO_BLK_T_IN, 0, data, (uint32_t)(first * SECTOR))) {
        kprintf("virtio: blk capacity=%lu read failed\n", capacity);
        return;
    }
    kprintf("virtio: blk capacity=%lu sector0-crc=0x%08x\n", capacity, crc32_update(0, data, SECTOR));
    uint64_t sector;
    if (cmdline_get_u64("blk-persist", &sector))
        blk_persist_across_reboot(&q, sector, capacity);
    if (cmdline_get_u64("blk-write", &sector))
        blk_write_and_flush(&q, d, sector, capacity);
    if (cmdline_has_word("blk-crc"))
        blk_disk_crc(&q, capacity);
}

/* ---- console ---- */

#define CONSOLE_GREETING "virtio-console: hello from hvc0\n"

static void run_console(struct virtio_pci *d)
{
    static struct virtq rx, tx;
    if (!virtio_start(d, 0)) {
        kprintf("virtio: console start failed status=0x%x\n", virtio_status(d));
        return;
    }
    if (!virtq_setup(d, &rx, 0, QUEUE_SIZE, console_rx_memory) || !virtq_setup(d, &tx, 1, QUEUE_SIZE, console_tx_memory)) {
        kprintf("virtio: console queue setup failed\n");
        return;
    }
    uint8_t status = virtio_driver_ok(d);
    kprintf("virtio: console features=0x%lx cols=%u rows=%u max-ports=%u status=0x%x\n", d->features,
            virtio_config_read32(d, 0) & 0xFFFF, virtio_config_read32(d, 0) >> 16, virtio_config_read32(d, 4), status);
    if (status & 0xC0)
        return;

    static char greeting[] = CONSOLE_GREETING;
    struct virtq_buffer out = { greeting, sizeof(greeting) - 1, false };
    kprintf("virtio: console sent %s\n", virtq_transfer(&tx, &out, 1, TIMEOUT_CYCLES) < 0 ? "timeout" : "ok");

    /* One line back, a piece per used receive buffer, within the overall timeout. */
    uint32_t got = 0;
    uint64_t start = rdtsc();
    while (got < sizeof(console_line) - 1) {
        uint64_t spent = rdtsc() - start;
        if (spent >= TIMEOUT_CYCLES) {
            kprintf("virtio: console receive timeout bytes=%u\n", got);
            return;
        }
        struct virtq_buffer in = { console_line + got, (uint32_t)(sizeof(console_line) - 1 - got), true };
        int64_t n = virtq_transfer(&rx, &in, 1, TIMEOUT_CYCLES - spent);
        if (n < 0) {
            kprintf("virtio: console receive timeout bytes=%u\n", got);
            return;
        }
        got += (uint32_t)n;
        if (got && (console_line[got - 1] == '\n' || console_line[got - 1] == '\r'))
            break;
    }
    while (got && (console_line[got - 1] == '\n' || console_line[got - 1] == '\r'))
        got--;
    console_line[got] = '\0';
    kprintf("virtio: console got %s\n", console_line);
}

/* ---- pmem ---- */

static void run_pmem(struct virtio_pci *d)
{
    static struct virtq q;
    static uint32_t request, response;
    if (!start_device(d, "pmem", 0, &q, pmem_queue_memory))
        return;
    if (!pmem_mapped) {
        kprintf("virtio: pmem start=0x%lx size=%lu map failed\n", pmem_start, pmem_size);
        return;
    }
    volatile uint8_t *bytes = (volatile uint8_t *)pmem_start;
    kprintf("virtio: pmem start=0x%lx size=%lu crc4k=0x%08x\n", pmem_start, pmem_size,
            crc32_update(0, (const uint8_t *)pmem_start, 4096));
    uint64_t value;
    if (!cmdline_get_u64("pmem-write", &value))
        return;
    bytes[0] = (uint8_t)value;
    kprintf("virtio: pmem write=%lu readback=%u\n", value, bytes[0]);
    request = VIRTIO_PMEM_REQ_FLUSH;
    response = 0xFFFFFFFFu;
    struct virtq_buffer chain[2] = { { &request, 4, false }, { &response, 4, true } };
    if (virtq_transfer(&q, chain, 2, TIMEOUT_CYCLES) < 0)
        kprintf("virtio: pmem flush timeout\n");
    else
        kprintf("virtio: pmem flush %s\n", response == 0 ? "ok" : "failed");
}

/* ---- watchdog ---- */

static void run_watchdog(struct virtio_pci *d, uint64_t pets)
{
    static struct virtq q;
    static uint8_t pet;
    if (!start_device(d, "watchdog", 0, &q, watchdog_queue_memory))
        return;
    uint64_t answered = 0;
    for (uint64_t i = 0; i < pets; i++) {
        pet = 0;
        struct virtq_buffer buffer = { &pet, 1, true };
        if (virtq_transfer(&q, &buffer, 1, TIMEOUT_CYCLES) < 0 || pet != 1)
            break;
        answered++;
    }
    kprintf("virtio: watchdog pets=%lu of %lu\n", answered, pets);
}

/* ---- pvpanic ---- */

static void run_pvpanic(uint64_t value)
{
    int dev;
    uint64_t bar;
    if (!pci_find_function(PVPANIC_VENDOR, PVPANIC_DEVICE, &dev, &bar)) {
        kprintf("virtio: pvpanic none\n");
        return;
    }
    kprintf("virtio: pvpanic 00:%02x.0 bar0=0x%lx events=0x%x\n", dev, bar, mmio_read8(bar));
    mmio_write8(bar, (uint8_t)value);
    kprintf("virtio: pvpanic wrote %lu\n", value);
}

/* ---- net ---- */

#define VIRTIO_NET_F_MAC  (1ull << 5)
#define NET_HEADER        12          /* virtio_net_hdr_v1 */
#define NET_FRAME_MAX     1514
#define NET_ETHERTYPE     0x88B5      /* IEEE local experimental: what the test exchanges */
#define NET_HELLO         "guest-kit net hello"
#define NET_RESEND_CYCLES (TIMEOUT_CYCLES / 50)

static uint8_t net_rx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t net_tx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t net_rx_buffer[NET_HEADER + NET_FRAME_MAX] __attribute__((aligned(64)));
static uint8_t net_tx_header[NET_HEADER];
static uint8_t net_tx_frame[NET_FRAME_MAX];
static uint8_t net_mac[6];

static uint16_t net_ethertype(const uint8_t *frame) { return (uint16_t)(frame[12] << 8 | frame[13]); }

static void net_post_rx(struct virtq *rx)
{
    struct virtq_buffer in = { net_rx_buffer, sizeof(net_rx_buffer), true };
    virtq_post(rx, &in, 1);
}

/* Sends net_tx_frame[0..len) behind a zeroed header, in two descriptors. */
static bool net_send(struct virtq *tx, uint32_t len)
{
    memset(net_tx_header, 0, sizeof(net_tx_header));
    struct virtq_buffer out[2] = { { net_tx_header, NET_HEADER, false }, { net_tx_frame, len, false } };
    return virtq_transfer(tx, out, 2, TIMEOUT_CYCLES) >= 0;
}

/* Waits for a frame of NET_ETHERTYPE (others are dropped and the buffer re-posted); its length or -1.
 * The receive buffer must be posted; it is not re-posted after the frame that is returned. */
static int64_t net_receive(struct virtq *rx, uint64_t timeout_cycles)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < timeout_cycles) {
        int64_t n = virtq_poll(rx, timeout_cycles - (rdtsc() - start));
        if (n < 0)
            return -1;
        if (n >= NET_HEADER + 14 && net_ethertype(net_rx_buffer + NET_HEADER) == NET_ETHERTYPE)
            return n - NET_HEADER;
        net_post_rx(rx);
    }
    return -1;
}

static void run_net(struct virtio_pci *d)
{
    static struct virtq rx, tx;
    if (!virtio_start(d, VIRTIO_NET_F_MAC)) {
        kprintf("virtio: net start failed status=0x%x\n", virtio_status(d));
        return;
    }
    if (!virtq_setup(d, &rx, 0, QUEUE_SIZE, net_rx_memory) || !virtq_setup(d, &tx, 1, QUEUE_SIZE, net_tx_memory)) {
        kprintf("virtio: net queue setup failed\n");
        return;
    }
    uint8_t status = virtio_driver_ok(d);
    uint32_t mac_low = virtio_config_read32(d, 0), mac_high = virtio_config_read32(d, 4);
    for (int i = 0; i < 4; i++)
        net_mac[i] = (uint8_t)(mac_low >> (8 * i));
    net_mac[4] = (uint8_t)mac_high;
    net_mac[5] = (uint8_t)(mac_high >> 8);
    kprintf("virtio: net features=0x%lx link=%u pairs=%u status=0x%x\n", d->features, (mac_high >> 16) & 1,
            virtio_config_read32(d, 8) & 0xFFFF, status);
    if (status & 0xC0)
        return;

    /* Broadcast the hello frame until a frame of ours comes back (the host may not listen yet). */
    static const char hello[] = NET_HELLO;
    memset(net_tx_frame, 0xFF, 6);
    memcpy(net_tx_frame + 6, net_mac, 6);
    net_tx_frame[12] = NET_ETHERTYPE >> 8;
    net_tx_frame[13] = NET_ETHERTYPE & 0xFF;
    memcpy(net_tx_frame + 14, hello, sizeof(hello) - 1);
    net_post_rx(&rx);
    uint64_t sent = 0, start = rdtsc();
    int64_t got = -1;
    while (got < 0 && rdtsc() - start < TIMEOUT_CYCLES) {
        if (!net_send(&tx, 14 + sizeof(hello) - 1))
            break;
        sent++;
        got = net_receive(&rx, NET_RESEND_CYCLES);
    }
    kprintf("virtio: net mac=%02x:%02x:%02x:%02x:%02x:%02x sent=%lu ", net_mac[0], net_mac[1], net_mac[2], net_mac[3],
            net_mac[4], net_mac[5], sent);
    if (got < 0) {
        kprintf("received=timeout\n");
        return;
    }
    kprintf("received=0x%04x/%lu\n", net_ethertype(net_rx_buffer + NET_HEADER), (uint64_t)got);

    /* net-echo=N: send each further frame back to its sender, from our MAC. */
    uint64_t echoes = 0, echoed = 0;
    cmdline_get_u64("net-echo", &echoes);
    for (; echoed < echoes; echoed++) {
        net_post_rx(&rx);
        int64_t n = net_receive(&rx, TIMEOUT_CYCLES);
        if (n < 0)
            break;
        const uint8_t *frame = net_rx_buffer + NET_HEADER;
        memcpy(net_tx_frame, frame + 6, 6);
        memcpy(net_tx_frame + 6, net_mac, 6);
        memcpy(net_tx_frame + 12, frame + 12, (size_t)n - 12);
        if (!net_send(&tx, (uint32_t)n))
            break;
    }
    if (echoes)
        kprintf("virtio: net echoed=%lu of %lu\n", echoed, echoes);
}

/* ---- the guest ---- */

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    device_count = virtio_pci_scan(devices, MAX_DEVICES);
    kprintf("virtio: devices=");
    for (int i = 0; i < device_count; i++)
        kprintf("%s%s", i ? "," : "", virtio_type_name(devices[i].type));
    kprintf("%s\n", device_count ? "" : "none");
    kprintf("virtio: config=%s\n", virtio_pci_config_mechanism());
    for (int i = 0; i < device_count; i++) {
        const struct virtio_pci *d = &devices[i];
        kprintf("virtio: 00:%02x.%u type=%s common=0x%lx notify=0x%lx multiplier=%u isr=0x%lx device=0x%lx%s\n",
                d->dev, d->fn, virtio_type_name(d->type), d->common, d->notify, d->notify_multiplier,
                d->isr, d->device, d->bars_assigned ? " bars=assigned" : "");
    }
    return 0;
}

static uint64_t run_drivers(uint64_t unused)
{
    (void)unused;
    bool rng_done = false, blk_done = false, console_done = !cmdline_has_word("console"), net_done = !cmdline_has_word("net");
    bool pmem_done = false, watchdog_done = false;
    uint64_t value;
    for (int i = 0; i < device_count; i++) {
        struct virtio_pci *d = &devices[i];
        if (!mapped[i])
            continue;
        if (d->type == VIRTIO_TYPE_RNG && !rng_done) {
            rng_done = true;
            run_rng(d);
        } else if (d->type == VIRTIO_TYPE_BLOCK && !blk_done) {
            blk_done = true;
            run_blk(d);
        } else if (d->type == VIRTIO_TYPE_NET && !net_done) {
            net_done = true;
            run_net(d);
        } else if (d->type == VIRTIO_TYPE_CONSOLE && !console_done) {
            console_done = true;
            run_console(d);
        } else if (d->type == VIRTIO_TYPE_PMEM && !pmem_done) {
            pmem_done = true;
            run_pmem(d);
        } else if (d->type == VIRTIO_TYPE_WATCHDOG && !watchdog_done && cmdline_get_u64("watchdog", &value)) {
            watchdog_done = true;
            run_watchdog(d, value);
        }
    }
    if (cmdline_get_u64("pvpanic", &value))
        run_pvpanic(value);
    return 0;
}

void guest_main(void)
{
    kprintf("virtio: guest kit virtio started\n");
    user_call(discover, 0);
    for (int i = 0; i < device_count; i++) {
        mapped[i] = virtio_pci_map(&devices[i]);
        if (!mapped[i])
            kprintf("virtio: 00:%02x.%u map failed\n", devices[i].dev, devices[i].fn);
        else if (devices[i].type == VIRTIO_TYPE_PMEM && !pmem_start) {
            /* The range is guest memory in the device area, above 4 GiB: ring 0 maps its first 2 MiB. */
            pmem_start = virtio_config_read64(&devices[i], 0);
            pmem_size = virtio_config_read64(&devices[i], 8);
            pmem_mapped = pmem_start && (!(pmem_start >> 32) || map_high_page(pmem_start));
        }
    }
    user_call(run_drivers, 0);
    uint64_t pets;
    if (cmdline_get_u64("watchdog", &pets)) {
        kprintf("virtio: watchdog silent\n");
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    kprintf("virtio: done\n");
}
