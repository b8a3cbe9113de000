/* vbench: virtio-blk and virtio-net throughput drivers for scripts/bench.
 *
 * Everything but mapping high BARs runs in ring 3 (user_call), where the
 * polling loops run natively. Port 0x80 gets 0x42 just before and 0x43 just
 * after the timed loop; the harness times the two writes as they reach it.
 *
 *   blk-read | blk-write | blk-randread | blk-randwrite
 *       bs=BYTES (multiple of 512, default 4096) qd=N (requests in flight,
 *       default 32) count=N (requests, default 4096); sequential requests
 *       wrap around the disk, random ones are bs-aligned (xorshift).
 *   net-tx   frame=BYTES (default 64) count=N: broadcast frames of ethertype
 *       0x88B5, up to the queue size in flight.
 *   net-rx   count=N: receives N frames of ethertype 0x88B5 (others are
 *       dropped); the timed loop starts at the first one.
 *   net-ping frame=BYTES count=N: sends one frame at a time and waits for a
 *       frame of ethertype 0x88B5 to come back (an echo on the host side);
 *       a reply missing after ~100 ms counts as an error and the frame is
 *       sent again. The loop starts at the first reply.
 *   net-tx-mq | net-rx-mq  pairs=N (default 2) frame=BYTES count=N: as
 *       net-tx / net-rx on N queue pairs: negotiates MQ and CTRL_VQ, sets N
 *       pairs with VQ_PAIRS_SET on the control queue and drives every pair
 *       from this one vCPU, round robin (the kit's ring 3 runs on the BSP
 *       only). Receive counts IPv4/UDP frames to port 0x88B5 (distinct flows,
 *       so that the host's multi-queue TAP spreads them over its queues).
 *       Also prints "vbench: per-pair requests=A,B,...".
 *
 * Prints "vbench: <mode> requests=N bytes=B errors=E tsc-cycles=C". */
#include "runtime.h"

#define MAX_DEVICES     16
#define QUEUE_SIZE      128
#define LIMIT_CYCLES    (600ull * 1000 * 1000 * 1000)
#define SECTOR          512
#define BUFFER_BYTES    (8u << 20)
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define VIRTIO_BLK_F_FLUSH (1ull << 9) /* negotiated, as Linux does: the device may cache writes */
#define VIRTIO_BLK_T_IN  0
#define VIRTIO_BLK_T_OUT 1

#define NET_HEADER       12
#define NET_FRAME_MAX    1514
#define NET_ETHERTYPE    0x88B5
#define NET_UDP_PORT     0x88B5      /* net-rx-mq: destination port of the host's flows */

#define VIRTIO_NET_F_CTRL_VQ (1ull << 17)
#define VIRTIO_NET_F_MQ      (1ull << 22)
#define MQ_MAX_PAIRS     4
#define CTRL_TIMEOUT_CYCLES (10ull * 1000 * 1000 * 1000)

struct blk_request_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct result {
    uint64_t requests, bytes, errors, cycles;
};

static struct virtio_pci devices[MAX_DEVICES];
static int device_count;
static uint8_t queue0_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t queue1_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t buffers[BUFFER_BYTES] __attribute__((aligned(4096)));
static struct blk_request_header headers[QUEUE_SIZE];
static volatile uint8_t statuses[QUEUE_SIZE];
static struct virtq q0, q1;
static struct result result;

/* ---- queue access for many chains in flight ---- */

static void add_descriptor(struct virtq *q, uint16_t i, void *data, uint32_t len, uint16_t flags, uint16_t next)
{
    q->desc[i].addr = (uint64_t)data;
    q->desc[i].len = len;
    q->desc[i].flags = flags;
    q->desc[i].next = next;
}

static void make_available(struct virtq *q, uint16_t head)
{
    q->avail[2 + q->next_avail % q->size] = head;
    q->next_avail++;
}

static void publish_and_notify(struct virtq *q)
{
    __sync_synchronize();
    q->avail[1] = q->next_avail;
    __sync_synchronize();
    if (!(*(volatile uint16_t *)q->used & VIRTQ_USED_F_NO_NOTIFY))
        mmio_write16(q->notify, q->index);
}

/* The next used element's id and length; false when none is there yet. */
static bool take_used(struct virtq *q, uint32_t *id, uint32_t *len)
{
    volatile uint16_t *used_idx = (volatile uint16_t *)(q->used + 2);
    if (*used_idx == q->last_used)
        return false;
    __sync_synchronize();
    volatile uint32_t *element = (volatile uint32_t *)(q->used + 4 + 8 * (q->last_used % q->size));
    *id = element[0];
    *len = element[1];
    q->last_used++;
    return true;
}

static uint64_t option(const char *key, uint64_t fallback)
{
    uint64_t value;
    return cmdline_get_u64(key, &value) && value ? value : fallback;
}

static bool start(struct virtio_pci *d, uint64_t features, int queues)
{
    if (!virtio_start(d, features)) {
        kprintf("vbench: start failed status=0x%x\n", virtio_status(d));
        return false;
    }
    if (!virtq_setup(d, &q0, 0, QUEUE_SIZE, queue0_memory) || (queues > 1 && !virtq_setup(d, &q1, 1, QUEUE_SIZE, queue1_memory))) {
        kprintf("vbench: queue setup failed\n");
        return false;
    }
    q0.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    if (queues > 1)
        q1.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    return (virtio_driver_ok(d) & 0xC0) == 0;
}

/* ---- block ---- */

struct blk_job {
    bool write, random;
    uint32_t bs, qd;
    uint64_t count, blocks; /* blocks: disk capacity in bs units */
};

static uint64_t xorshift_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_block(const struct blk_job *job, uint64_t n)
{
    if (!job->random)
        return n % job->blocks;
    xorshift_state ^= xorshift_state << 13;
    xorshift_state ^= xorshift_state >> 7;
    xorshift_state ^= xorshift_state << 17;
    return xorshift_state % job->blocks;
}

/* Request slot s uses descriptors 3s..3s+2 and buffer bytes [s*bs, (s+1)*bs). */
static void blk_submit(const struct blk_job *job, uint32_t slot, uint64_t n)
{
    uint16_t head = (uint16_t)(3 * slot);
    headers[slot].type = job->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    headers[slot].sector = next_block(job, n) * (job->bs / SECTOR);
    statuses[slot] = 0xFF;
    add_descriptor(&q0, head, &headers[slot], sizeof(headers[slot]), VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
    add_descriptor(&q0, (uint16_t)(head + 1), buffers + (uint64_t)slot * job->bs, job->bs,
                   (uint16_t)(VIRTQ_DESC_F_NEXT | (job->write ? 0 : VIRTQ_DESC_F_WRITE)), (uint16_t)(head + 2));
    add_descriptor(&q0, (uint16_t)(head + 2), (void *)&statuses[slot], 1, VIRTQ_DESC_F_WRITE, 0);
    make_available(&q0, head);
}

static uint64_t blk_loop(uint64_t arg)
{
    const struct blk_job *job = (const struct blk_job *)arg;
    uint64_t submitted = 0, completed = 0;
    outb(0x80, 0x42);
    uint64_t begin = rdtsc();
    for (uint32_t slot = 0; slot < job->qd && submitted < job->count; slot++)
        blk_submit(job, slot, submitted++);
    publish_and_notify(&q0);
    while (completed < job->count && rdtsc() - begin < LIMIT_CYCLES) {
        uint32_t id, len;
        bool any = false;
        while (take_used(&q0, &id, &len)) {
            uint32_t slot = id / 3;
            if (slot >= job->qd || statuses[slot] != 0)
                result.errors++;
            completed++;
            any = true;
            if (submitted < job->count)
                blk_submit(job, slot, submitted++);
        }
        if (any)
            publish_and_notify(&q0);
        else
            __asm__ volatile("pause");
    }
    result.cycles = rdtsc() - begin;
    outb(0x80, 0x43);
    result.requests = completed;
    result.bytes = completed * job->bs;
    return 0;
}

static void run_blk(struct virtio_pci *d, bool write, bool random, const char *mode)
{
    static struct blk_job job;
    job.write = write;
    job.random = random;
    job.bs = (uint32_t)option("bs", 4096);
    job.qd = (uint32_t)option("qd", 32);
    job.count = option("count", 4096);
    if (job.bs % SECTOR || job.qd * 3 > QUEUE_SIZE || (uint64_t)job.qd * job.bs > BUFFER_BYTES) {
        kprintf("vbench: bad blk job bs=%u qd=%u\n", job.bs, job.qd);
        return;
    }
    if (!start(d, VIRTIO_BLK_F_FLUSH, 1))
        return;
    if (q0.size < job.qd * 3) {
        kprintf("vbench: queue size %u too small for qd=%u\n", q0.size, job.qd);
        return;
    }
    job.blocks = virtio_config_read64(d, 0) / (job.bs / SECTOR);
    if (job.blocks == 0) {
        kprintf("vbench: disk smaller than one block\n");
        return;
    }
    for (uint64_t i = 0; i < BUFFER_BYTES; i += 4096)
        buffers[i] = (uint8_t)((i >> 12) | 1); /* touched, and writes leave a mark: page number, odd */
    blk_loop((uint64_t)&job);
    kprintf("vbench: %s bs=%u qd=%u requests=%lu bytes=%lu errors=%lu tsc-cycles=%lu\n", mode, job.bs, job.qd,
            result.requests, result.bytes, result.errors, result.cycles);
}

/* ---- net ---- */

struct net_job {
    uint32_t frame;
    uint64_t count;
    bool udp; /* receive counts IPv4/UDP frames to NET_UDP_PORT (the -mq modes) rather than NET_ETHERTYPE ones */
};

/* Frame slot s lives at buffers + s * 2048: virtio_net_hdr_v1, then the frame. */
static uint8_t *net_slot(uint32_t slot) { return buffers + (uint64_t)slot * 2048; }

/* The queue pairs the transmit and receive loops drive: q0/q1 for net-tx/net-rx, the -mq modes' pairs. Pair p's
 * slot s has its own 2048 bytes in buffers. */
static struct virtq *rx_queues[MQ_MAX_PAIRS], *tx_queues[MQ_MAX_PAIRS];
static uint32_t net_pairs;
static uint64_t per_pair[MQ_MAX_PAIRS];

static uint8_t *pair_slot(uint32_t pair, uint32_t slot) { return net_slot(pair * QUEUE_SIZE + slot); }

/* Every frame slot up to `slots`: a zeroed header, then a broadcast frame of ethertype NET_ETHERTYPE. */
static void fill_frames(uint32_t slots)
{
    for (uint32_t slot = 0; slot < slots; slot++) {
        uint8_t *frame = net_slot(slot) + NET_HEADER;
        memset(net_slot(slot), 0, NET_HEADER);
        memset(frame, 0xFF, 6);
        memset(frame + 6, 0x02, 6);
        frame[12] = NET_ETHERTYPE >> 8;
        frame[13] = NET_ETHERTYPE & 0xFF;
    }
}

static bool ethertype_frame(const uint8_t *frame, uint32_t len)
{
    return len >= 14 && (frame[12] << 8 | frame[13]) == NET_ETHERTYPE;
}

/* An IPv4/UDP frame to port NET_UDP_PORT: what tap-blast sends when asked for several flows. */
static bool bench_udp(const uint8_t *frame, uint32_t len)
{
    if (len < 14 + 20 + 8 || (frame[12] << 8 | frame[13]) != 0x0800 || frame[14] >> 4 != 4 || frame[23] != 17)
        return false;
    uint32_t udp = 14 + (frame[14] & 15u) * 4;
    return len >= udp + 8 && (frame[udp + 2] << 8 | frame[udp + 3]) == NET_UDP_PORT;
}

static uint64_t net_tx_loop(uint64_t arg)
{
    const struct net_job *job = (const struct net_job *)arg;
    uint64_t submitted = 0, completed = 0;
    uint32_t length = NET_HEADER + job->frame;
    outb(0x80, 0x42);
    uint64_t begin = rdtsc();
    for (uint32_t p = 0; p < net_pairs; p++) {
        struct virtq *q = tx_queues[p];
        for (uint16_t slot = 0; slot < q->size && submitted < job->count; slot++, submitted++) {
            add_descriptor(q, slot, pair_slot(p, slot), length, 0, 0);
            make_available(q, slot);
        }
        publish_and_notify(q);
    }
    while (completed < job->count && rdtsc() - begin < LIMIT_CYCLES) {
        bool any = false;
        for (uint32_t p = 0; p < net_pairs; p++) {
            struct virtq *q = tx_queues[p];
            uint32_t id, len;
            bool used = false;
            while (take_used(q, &id, &len)) {
                completed++;
                per_pair[p]++;
                used = true;
                if (id >= q->size)
                    result.errors++;
                else if (submitted < job->count) {
                    make_available(q, (uint16_t)id);
                    submitted++;
                }
            }
            if (used)
                publish_and_notify(q);
            any |= used;
        }
        if (!any)
            __asm__ volatile("pause");
    }
    result.cycles = rdtsc() - begin;
    outb(0x80, 0x43);
    result.requests = completed;
    result.bytes = completed * job->frame;
    return 0;
}

static uint64_t net_rx_loop(uint64_t arg)
{
    const struct net_job *job = (const struct net_job *)arg;
    uint64_t received = 0, begin = 0, waited = rdtsc();
    for (uint32_t p = 0; p < net_pairs; p++) {
        struct virtq *q = rx_queues[p];
        for (uint16_t slot = 0; slot < q->size; slot++) {
            add_descriptor(q, slot, pair_slot(p, slot), NET_HEADER + NET_FRAME_MAX, VIRTQ_DESC_F_WRITE, 0);
            make_available(q, slot);
        }
        publish_and_notify(q);
    }
    while (received < job->count && rdtsc() - (begin ? begin : waited) < LIMIT_CYCLES) {
        bool any = false;
        for (uint32_t p = 0; p < net_pairs; p++) {
            struct virtq *q = rx_queues[p];
            uint32_t id, len;
            bool used = false;
            while (received < job->count && take_used(q, &id, &len)) {
                used = true;
                if (id >= q->size) {
                    result.errors++;
                    continue;
                }
                const uint8_t *frame = pair_slot(p, id) + NET_HEADER;
                uint32_t frame_len = len > NET_HEADER ? len - NET_HEADER : 0;
                if (job->udp ? bench_udp(frame, frame_len) : ethertype_frame(frame, frame_len)) {
                    if (received++ == 0) {
                        outb(0x80, 0x42);
                        begin = rdtsc();
                    }
                    per_pair[p]++;
                    result.bytes += frame_len;
                }
                make_available(q, (uint16_t)id);
            }
            if (used)
                publish_and_notify(q);
            any |= used;
        }
        if (!any)
            __asm__ volatile("pause");
    }
    result.cycles = begin ? rdtsc() - begin : 0;
    outb(0x80, 0x43);
    result.requests = received;
    return 0;
}

#define PING_TIMEOUT_CYCLES (250ull * 1000 * 1000)

/* Transmit slot 0 (one descriptor) to the device and wait until it is used. */
static bool ping_send(uint32_t length, uint64_t deadline)
{
    uint32_t id, len;
    add_descriptor(&q1, 0, net_slot(QUEUE_SIZE), length, 0, 0);
    make_available(&q1, 0);
    publish_and_notify(&q1);
    while (!take_used(&q1, &id, &len))
        if (rdtsc() > deadline)
            return false;
    return true;
}

/* Waits for the next frame of ours on the receive queue (re-posting every buffer it consumes). */
static bool ping_receive(uint64_t deadline)
{
    uint32_t id, len;
    while (rdtsc() < deadline) {
        if (!take_used(&q0, &id, &len)) {
            __asm__ volatile("pause");
            continue;
        }
        bool ours = false;
        if (id < q0.size) {
            ours = len > NET_HEADER && ethertype_frame(net_slot(id) + NET_HEADER, len - NET_HEADER);
            make_available(&q0, (uint16_t)id);
            publish_and_notify(&q0);
        }
        if (ours)
            return true;
    }
    return false;
}

static uint64_t net_ping_loop(uint64_t arg)
{
    const struct net_job *job = (const struct net_job *)arg;
    uint32_t length = NET_HEADER + job->frame;
    for (uint16_t slot = 0; slot < q0.size; slot++) {
        add_descriptor(&q0, slot, net_slot(slot), NET_HEADER + NET_FRAME_MAX, VIRTQ_DESC_F_WRITE, 0);
        make_available(&q0, slot);
    }
    publish_and_notify(&q0);
    uint64_t answered = 0, begin = 0, start = rdtsc();
    /* The first exchange (not timed) waits for the host's echo to be ready. */
    while (answered < job->count + 1 && rdtsc() - start < LIMIT_CYCLES) {
        uint64_t now = rdtsc();
        if (!ping_send(length, now + PING_TIMEOUT_CYCLES) || !ping_receive(now + PING_TIMEOUT_CYCLES)) {
            if (answered)
                result.errors++;
            continue;
        }
        if (answered++ == 0) {
            outb(0x80, 0x42);
            begin = rdtsc();
        }
    }
    result.cycles = begin ? rdtsc() - begin : 0;
    outb(0x80, 0x43);
    result.requests = answered ? answered - 1 : 0;
    result.bytes = result.requests * job->frame;
    return 0;
}

static void run_net(struct virtio_pci *d, const char *mode)
{
    static struct net_job job;
    job.frame = (uint32_t)option("frame", 64);
    job.count = option("count", 100000);
    if (job.frame < 14 || job.frame > NET_FRAME_MAX) {
        kprintf("vbench: bad frame=%u\n", job.frame);
        return;
    }
    if (!start(d, 0, 2))
        return;
    rx_queues[0] = &q0;
    tx_queues[0] = &q1;
    net_pairs = 1;
    fill_frames(QUEUE_SIZE + 1); /* net-ping sends from slot QUEUE_SIZE */
    bool tx = mode[4] == 't', ping = mode[4] == 'p';
    (ping ? net_ping_loop : tx ? net_tx_loop : net_rx_loop)((uint64_t)&job);
    kprintf("vbench: %s frame=%u requests=%lu bytes=%lu errors=%lu tsc-cycles=%lu\n", mode,
            job.frame, result.requests, result.bytes, result.errors, result.cycles);
}

/* ---- net, several queue pairs ---- */

static uint8_t mq_memory[2 * MQ_MAX_PAIRS + 1][VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static struct virtq mq_rx[MQ_MAX_PAIRS], mq_tx[MQ_MAX_PAIRS], mq_ctrl;

static bool start_mq(struct virtio_pci *d, uint32_t pairs)
{
    if (!virtio_start(d, VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_MQ)) {
        kprintf("vbench: start failed status=0x%x\n", virtio_status(d));
        return false;
    }
    /* status (offset 6) and max_virtqueue_pairs (8) as one 32-bit read, as net-mq does. */
    uint16_t max_pairs = (uint16_t)(virtio_config_read32(d, 6) >> 16);
    if (!(d->features & VIRTIO_NET_F_MQ) || !(d->features & VIRTIO_NET_F_CTRL_VQ) || max_pairs < pairs) {
        kprintf("vbench: no %u queue pairs: mq=%u ctrl-vq=%u max_virtqueue_pairs=%u\n", pairs,
                (d->features & VIRTIO_NET_F_MQ) != 0, (d->features & VIRTIO_NET_F_CTRL_VQ) != 0, max_pairs);
        return false;
    }
    for (uint32_t p = 0; p < pairs; p++) {
        if (!virtq_setup(d, &mq_rx[p], (uint16_t)(2 * p), QUEUE_SIZE, mq_memory[2 * p]) ||
            !virtq_setup(d, &mq_tx[p], (uint16_t)(2 * p + 1), QUEUE_SIZE, mq_memory[2 * p + 1])) {
            kprintf("vbench: pair %u setup failed\n", p);
            return false;
        }
        mq_rx[p].avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
        mq_tx[p].avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
        rx_queues[p] = &mq_rx[p];
        tx_queues[p] = &mq_tx[p];
    }
    if (!virtq_setup(d, &mq_ctrl, (uint16_t)(2 * max_pairs), QUEUE_SIZE, mq_memory[2 * MQ_MAX_PAIRS])) {
        kprintf("vbench: control queue %u setup failed\n", 2 * max_pairs);
        return false;
    }
    if (virtio_driver_ok(d) & 0xC0) {
        kprintf("vbench: driver-ok failed status=0x%x\n", virtio_status(d));
        return false;
    }
    int ack = virtio_net_set_queue_pairs(&mq_ctrl, (uint16_t)pairs, CTRL_TIMEOUT_CYCLES);
    if (ack != 0) {
        kprintf("vbench: VQ_PAIRS_SET %u not acknowledged (ack=%d)\n", pairs, ack);
        return false;
    }
    return true;
}

static void run_net_mq(struct virtio_pci *d, const char *mode)
{
    static struct net_job job;
    job.frame = (uint32_t)option("frame", 64);
    job.count = option("count", 100000);
    job.udp = true;
    net_pairs = (uint32_t)option("pairs", 2);
    if (job.frame < 14 || job.frame > NET_FRAME_MAX || net_pairs > MQ_MAX_PAIRS) {
        kprintf("vbench: bad frame=%u pairs=%u\n", job.frame, net_pairs);
        return;
    }
    if (!start_mq(d, net_pairs))
        return;
    fill_frames(net_pairs * QUEUE_SIZE);
    (mode[4] == 't' ? net_tx_loop : net_rx_loop)((uint64_t)&job);
    kprintf("vbench: %s pairs=%u frame=%u requests=%lu bytes=%lu errors=%lu tsc-cycles=%lu\n", mode, net_pairs,
            job.frame, result.requests, result.bytes, result.errors, result.cycles);
    kprintf("vbench: per-pair requests=");
    for (uint32_t p = 0; p < net_pairs; p++)
        kprintf(p ? ",%lu" : "%lu", per_pair[p]);
    kprintf("\n");
}

/* ---- the guest ---- */

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    device_count = virtio_pci_scan(devices, MAX_DEVICES);
    return 0;
}

static struct virtio_pci *find(uint16_t type)
{
    for (int i = 0; i < device_count; i++)
        if (devices[i].type == type)
            return &devices[i];
    return NULL;
}

static uint64_t run_mode(uint64_t unused)
{
    (void)unused;
    static const struct { const char *word; uint16_t type; bool write, random, mq; } modes[] = {
        { "blk-read", VIRTIO_TYPE_BLOCK, false, false, false }, { "blk-write", VIRTIO_TYPE_BLOCK, true, false, false },
        { "blk-randread", VIRTIO_TYPE_BLOCK, false, true, false }, { "blk-randwrite", VIRTIO_TYPE_BLOCK, true, true, false },
        { "net-tx", VIRTIO_TYPE_NET, true, false, false }, { "net-rx", VIRTIO_TYPE_NET, false, false, false },
        { "net-ping", VIRTIO_TYPE_NET, false, false, false },
        { "net-tx-mq", VIRTIO_TYPE_NET, true, false, true }, { "net-rx-mq", VIRTIO_TYPE_NET, false, false, true },
    };
    for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (!cmdline_has_word(modes[i].word))
            continue;
        struct virtio_pci *d = find(modes[i].type);
        if (!d)
            kprintf("vbench: no %s device\n", virtio_type_name(modes[i].type));
        else if (modes[i].type == VIRTIO_TYPE_BLOCK)
            run_blk(d, modes[i].write, modes[i].random, modes[i].word);
        else if (modes[i].mq)
            run_net_mq(d, modes[i].word);
        else
            run_net(d, modes[i].word);
        return 0;
    }
    kprintf("vbench: no mode on the command line\n");
    return 0;
}

void guest_main(void)
{
    kprintf("vbench: guest kit vbench started\n");
    user_call(discover, 0);
    for (int i = 0; i < device_count; i++)
        if (!virtio_pci_map(&devices[i]))
            kprintf("vbench: 00:%02x.%u map failed\n", devices[i].dev, devices[i].fn);
    user_call(run_mode, 0);
    kprintf("vbench: done\n");
}
