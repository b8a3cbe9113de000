/* net-mq: a multi-queue virtio-net driver (polling) for the first net device.
 *
 * Negotiates MAC, CTRL_VQ and MQ, reads max_virtqueue_pairs, sets up the first
 * two pairs (queues 0-3) and the control queue after the device's last pair
 * (2 * max_virtqueue_pairs), and asks for 2 pairs with VIRTIO_NET_CTRL_MQ
 * VQ_PAIRS_SET. Then, like `virtio net net-echo=N` but transmitting on the
 * second pair only: broadcasts a raw frame (ethertype 0x88b5, payload
 * `guest-kit net hello`) on queue 3 until a 0x88b5 frame comes back on either
 * receive queue, and sends N more such frames back to their sender, from its own
 * MAC, on queue 3; reports on which pair each frame arrived. Shuts down. */
#include "runtime.h"

#define MAX_DEVICES       16
#define QUEUE_SIZE        16
#define TIMEOUT_CYCLES    (10ull * 1000 * 1000 * 1000)
#define POLL_CYCLES       (TIMEOUT_CYCLES / 500)
#define NET_HEADER        12          /* virtio_net_hdr_v1 */
#define NET_FRAME_MAX     1514
#define NET_ETHERTYPE     0x88B5
#define NET_HELLO         "guest-kit net hello"

#define VIRTIO_NET_F_MAC     (1ull << 5)
#define VIRTIO_NET_F_CTRL_VQ (1ull << 17)
#define VIRTIO_NET_F_MQ      (1ull << 22)
#define PAIRS 2

static struct virtio_pci devices[MAX_DEVICES];
static int device_count;
static bool mapped[MAX_DEVICES];

static uint8_t queue_memory[2 * PAIRS + 1][VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static struct virtq rx[PAIRS], tx[PAIRS], ctrl;
static uint8_t rx_buffer[PAIRS][NET_HEADER + NET_FRAME_MAX] __attribute__((aligned(64)));
static uint8_t tx_header[NET_HEADER];
static uint8_t tx_frame[NET_FRAME_MAX];
static uint8_t mac[6];
static uint64_t received_on[PAIRS];

static uint16_t ethertype(const uint8_t *frame) { return (uint16_t)(frame[12] << 8 | frame[13]); }

static void post_rx(int pair)
{
    struct virtq_buffer in = { rx_buffer[pair], sizeof(rx_buffer[pair]), true };
    virtq_post(&rx[pair], &in, 1);
}

/* Sends tx_frame[0..len) behind a zeroed header on the second pair's transmit queue. */
static bool send_on_pair1(uint32_t len)
{
    memset(tx_header, 0, sizeof(tx_header));
    struct virtq_buffer out[2] = { { tx_header, NET_HEADER, false }, { tx_frame, len, false } };
    return virtq_transfer(&tx[1], out, 2, TIMEOUT_CYCLES) >= 0;
}

/* Waits for a 0x88b5 frame on either receive queue (others are dropped, buffers re-posted);
 * returns its length and sets *pair, or -1. The buffer it arrived in is not re-posted. */
static int64_t receive(uint64_t timeout_cycles, int *pair)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < timeout_cycles) {
        for (int p = 0; p < PAIRS; p++) {
            int64_t n = virtq_poll(&rx[p], POLL_CYCLES);
            if (n < 0)
                continue;
            if (n >= NET_HEADER + 14 && ethertype(rx_buffer[p] + NET_HEADER) == NET_ETHERTYPE) {
                *pair = p;
                received_on[p]++;
                return n - NET_HEADER;
            }
            post_rx(p);
        }
    }
    return -1;
}

static void run(struct virtio_pci *d)
{
    if (!virtio_start(d, VIRTIO_NET_F_MAC | VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_MQ)) {
        kprintf("net-mq: start failed status=0x%x\n", virtio_status(d));
        return;
    }
    uint32_t mac_low = virtio_config_read32(d, 0), mac_high = virtio_config_read32(d, 4);
    /* status and max_virtqueue_pairs: a 32-bit read at 8 would run past a config space that ends before mtu. */
    uint16_t max_pairs = (uint16_t)(virtio_config_read32(d, 6) >> 16);
    kprintf("net-mq: features=0x%lx mq=%u ctrl-vq=%u max_virtqueue_pairs=%u\n", d->features,
            (d->features & VIRTIO_NET_F_MQ) != 0, (d->features & VIRTIO_NET_F_CTRL_VQ) != 0, max_pairs);
    if (!(d->features & VIRTIO_NET_F_MQ) || !(d->features & VIRTIO_NET_F_CTRL_VQ) || max_pairs < PAIRS)
        return;
    for (int p = 0; p < PAIRS; p++) {
        if (!virtq_setup(d, &rx[p], (uint16_t)(2 * p), QUEUE_SIZE, queue_memory[2 * p]) ||
            !virtq_setup(d, &tx[p], (uint16_t)(2 * p + 1), QUEUE_SIZE, queue_memory[2 * p + 1])) {
            kprintf("net-mq: pair %d setup failed\n", p);
            return;
        }
    }
    if (!virtq_setup(d, &ctrl, (uint16_t)(2 * max_pairs), QUEUE_SIZE, queue_memory[2 * PAIRS])) {
        kprintf("net-mq: control queue %u setup failed\n", 2 * max_pairs);
        return;
    }
    uint8_t status = virtio_driver_ok(d);
    if (status & 0xC0) {
        kprintf("net-mq: driver-ok failed status=0x%x\n", status);
        return;
    }
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(mac_low >> (8 * i));
    mac[4] = (uint8_t)mac_high;
    mac[5] = (uint8_t)(mac_high >> 8);

    int ack = virtio_net_set_queue_pairs(&ctrl, PAIRS, TIMEOUT_CYCLES);
    kprintf("net-mq: vq-pairs-set=%u ctrl-queue=%u ack=%s\n", PAIRS, 2 * max_pairs,
            ack < 0 ? "timeout" : ack == 0 ? "ok" : "err");

    static const char hello[] = NET_HELLO;
    memset(tx_frame, 0xFF, 6);
    memcpy(tx_frame + 6, mac, 6);
    tx_frame[12] = NET_ETHERTYPE >> 8;
    tx_frame[13] = NET_ETHERTYPE & 0xFF;
    memcpy(tx_frame + 14, hello, sizeof(hello) - 1);
    for (int p = 0; p < PAIRS; p++)
        post_rx(p);
    uint64_t sent = 0, start = rdtsc();
    int64_t got = -1;
    int pair = -1;
    while (got < 0 && rdtsc() - start < TIMEOUT_CYCLES) {
        if (!send_on_pair1(14 + sizeof(hello) - 1))
            break;
        sent++;
        got = receive(TIMEOUT_CYCLES / 50, &pair);
    }
    kprintf("net-mq: mac=%02x:%02x:%02x:%02x:%02x:%02x sent=%lu on pair 1 ", mac[0], mac[1], mac[2], mac[3], mac[4],
            mac[5], sent);
    if (got < 0) {
        kprintf("received=timeout\n");
        return;
    }
    kprintf("received=0x%04x/%lu on pair %d\n", ethertype(rx_buffer[pair] + NET_HEADER), (uint64_t)got, pair);

    uint64_t echoes = 0, echoed = 0;
    cmdline_get_u64("net-echo", &echoes);
    for (; echoed < echoes; echoed++) {
        post_rx(pair);
        int64_t n = receive(TIMEOUT_CYCLES, &pair);
        if (n < 0)
            break;
        const uint8_t *frame = rx_buffer[pair] + NET_HEADER;
        memcpy(tx_frame, frame + 6, 6);
        memcpy(tx_frame + 6, mac, 6);
        memcpy(tx_frame + 12, frame + 12, (size_t)n - 12);
        if (!send_on_pair1((uint32_t)n))
            break;
    }
    kprintf("net-mq: echoed=%lu of %lu on pair 1 received-pair0=%lu received-pair1=%lu\n", echoed, echoes,
            received_on[0], received_on[1]);
}

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    device_count = virtio_pci_scan(devices, MAX_DEVICES);
    return 0;
}

static uint64_t run_first_net(uint64_t unused)
{
    (void)unused;
    for (int i = 0; i < device_count; i++) {
        if (mapped[i] && devices[i].type == VIRTIO_TYPE_NET) {
            run(&devices[i]);
            return 0;
        }
    }
    kprintf("net-mq: no net device\n");
    return 0;
}

void guest_main(void)
{
    kprintf("net-mq: started\n");
    user_call(discover, 0);
    for (int i = 0; i < device_count; i++)
        mapped[i] = virtio_pci_map(&devices[i]);
    user_call(run_first_net, 0);
    kprintf("net-mq: done\n");
}
