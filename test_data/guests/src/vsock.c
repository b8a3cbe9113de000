/* vsock: a polling virtio-vsock driver (device type 19) for the first vsock device on bus 0.
 *
 * With `connect=P` it connects from guest port 50000 to host CID 2 port P, sends
 * "hello from the guest\n", prints the first data that comes back and shuts the
 * connection down. With `listen=Q` it then waits for the host to connect to guest
 * port Q (refusing requests for any other port with an RST), accepts, and echoes
 * every data packet back until the host shuts down or resets the connection, or
 * `echo=N` packets (default 8) have been echoed. One receive buffer is posted at a
 * time (44-byte header + 4 KiB data, two descriptors); every polling loop runs in
 * ring 3 and is bounded by the TSC. */
#include "runtime.h"

#define VIRTIO_TYPE_VSOCK 19
#define MAX_DEVICES       16
#define QUEUE_SIZE        16
#define TIMEOUT_CYCLES    (10ull * 1000 * 1000 * 1000)
#define LISTEN_CYCLES     (60ull * 1000 * 1000 * 1000)
#define GUEST_PORT        50000
#define HOST_CID          2
#define BUF_ALLOC         65536
#define DATA_MAX          4096

#define OP_REQUEST        1
#define OP_RESPONSE       2
#define OP_RST            3
#define OP_SHUTDOWN       4
#define OP_RW             5
#define OP_CREDIT_UPDATE  6
#define OP_CREDIT_REQUEST 7
#define TYPE_STREAM       1
#define SHUTDOWN_BOTH     3

struct vsock_header {
    uint64_t src_cid, dst_cid;
    uint32_t src_port, dst_port, len;
    uint16_t type, op;
    uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_header) == 44, "virtio_vsock_hdr is 44 bytes");

static struct virtio_pci devices[MAX_DEVICES];
static int device_count;
static struct virtio_pci *vsock;
static uint8_t rx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t tx_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static uint8_t event_memory[VIRTQ_MEMORY_BYTES] __attribute__((aligned(4096)));
static struct virtq rx, tx, events;
static struct vsock_header rx_header, tx_header;
static uint8_t rx_data[DATA_MAX], tx_data[DATA_MAX];
static uint64_t guest_cid;
static uint32_t fwd_cnt; /* bytes of the current connection taken from the receive buffer */

static void post_rx(void)
{
    struct virtq_buffer in[2] = { { &rx_header, sizeof(rx_header), true }, { rx_data, sizeof(rx_data), true } };
    virtq_post(&rx, in, 2);
}

/* Waits for the next packet (the receive buffer must be posted; it is re-posted by the caller). */
static bool receive(uint64_t timeout_cycles)
{
    return virtq_poll(&rx, timeout_cycles) >= 0;
}

static bool send(uint16_t op, uint32_t local_port, uint32_t peer_port, uint32_t flags, const void *payload, uint32_t len)
{
    tx_header = (struct vsock_header){
        .src_cid = guest_cid, .dst_cid = HOST_CID, .src_port = local_port, .dst_port = peer_port, .len = len,
        .type = TYPE_STREAM, .op = op, .flags = flags, .buf_alloc = BUF_ALLOC, .fwd_cnt = fwd_cnt,
    };
    struct virtq_buffer out[2] = { { &tx_header, sizeof(tx_header), false }, { tx_data, len, false } };
    if (len)
        memcpy(tx_data, payload, len);
    return virtq_transfer(&tx, out, len ? 2 : 1, TIMEOUT_CYCLES) >= 0;
}

/* Prints received data up to its first newline (at most 200 bytes). */
static void print_text(const char *prefix, const uint8_t *text, uint32_t len)
{
    static char line[201];
    uint32_t n = 0;
    while (n < len && n < 200 && text[n] != '\n' && text[n] != '\r') {
        line[n] = (char)text[n];
        n++;
    }
    line[n] = 0;
    kprintf("%s%s\n", prefix, line);
}

/* ---- guest to host ---- */

static void run_connect(uint32_t port)
{
    static const char hello[] = "hello from the guest\n";
    fwd_cnt = 0;
    if (!send(OP_REQUEST, GUEST_PORT, port, 0, 0, 0)) {
        kprintf("vsock: connect port=%u send-timeout\n", port);
        return;
    }
    bool established = false;
    while (!established) {
        if (!receive(TIMEOUT_CYCLES)) {
            kprintf("vsock: connect port=%u timeout\n", port);
            return;
        }
        uint16_t op = rx_header.op;
        post_rx();
        if (op == OP_RST) {
            kprintf("vsock: connect port=%u refused\n", port);
            return;
        }
        established = op == OP_RESPONSE;
    }
    kprintf("vsock: connect port=%u established\n", port);
    send(OP_RW, GUEST_PORT, port, 0, hello, sizeof(hello) - 1);
    for (;;) {
        if (!receive(TIMEOUT_CYCLES)) {
            kprintf("vsock: connect port=%u reply-timeout\n", port);
            return;
        }
        struct vsock_header h = rx_header;
        if (h.op == OP_RW && h.len) {
            fwd_cnt += h.len;
            print_text("vsock: connect reply=", rx_data, h.len);
            post_rx();
            break;
        }
        post_rx();
        if (h.op == OP_CREDIT_REQUEST)
            send(OP_CREDIT_UPDATE, GUEST_PORT, port, 0, 0, 0);
        else if (h.op == OP_RST || h.op == OP_SHUTDOWN) {
            kprintf("vsock: connect port=%u closed-by-host op=%u\n", port, h.op);
            return;
        }
    }
    send(OP_SHUTDOWN, GUEST_PORT, port, SHUTDOWN_BOTH, 0, 0);
    while (receive(TIMEOUT_CYCLES)) {
        uint16_t op = rx_header.op;
        post_rx();
        if (op == OP_RST) {
            kprintf("vsock: connect port=%u closed\n", port);
            return;
        }
    }
    kprintf("vsock: connect port=%u close-timeout\n", port);
}

/* ---- host to guest ---- */

static void run_listen(uint32_t port, uint64_t max_echoes)
{
    kprintf("vsock: listening port=%u\n", port);
    uint32_t peer = 0;
    uint64_t start = rdtsc();
    while (!peer) {
        uint64_t spent = rdtsc() - start;
        if (spent >= LISTEN_CYCLES || !receive(LISTEN_CYCLES - spent)) {
            kprintf("vsock: listen port=%u timeout\n", port);
            return;
        }
        struct vsock_header h = rx_header;
        post_rx();
        if (h.op != OP_REQUEST)
            continue;
        if (h.dst_port != port) {
            kprintf("vsock: refused port=%u\n", h.dst_port);
            send(OP_RST, h.dst_port, h.src_port, 0, 0, 0);
            continue;
        }
        peer = h.src_port;
    }
    fwd_cnt = 0;
    send(OP_RESPONSE, port, peer, 0, 0, 0);
    kprintf("vsock: accepted port=%u peer-port=%u\n", port, peer);

    uint64_t echoed = 0;
    while (echoed < max_echoes) {
        if (!receive(TIMEOUT_CYCLES * 3)) {
            kprintf("vsock: listen port=%u timeout echoed=%lu\n", port, echoed);
            return;
        }
        struct vsock_header h = rx_header;
        if (h.op == OP_RW && h.len) {
            uint32_t len = h.len;
            print_text("vsock: echo ", rx_data, len);
            fwd_cnt += len;
            static uint8_t copy[DATA_MAX];
            memcpy(copy, rx_data, len);
            post_rx();
            send(OP_RW, port, peer, 0, copy, len);
            echoed++;
            continue;
        }
        post_rx();
        if (h.op == OP_CREDIT_REQUEST) {
            send(OP_CREDIT_UPDATE, port, peer, 0, 0, 0);
        } else if (h.op == OP_SHUTDOWN) {
            send(OP_RST, port, peer, 0, 0, 0);
            kprintf("vsock: listen port=%u peer-shutdown echoed=%lu\n", port, echoed);
            return;
        } else if (h.op == OP_RST) {
            kprintf("vsock: listen port=%u peer-reset echoed=%lu\n", port, echoed);
            return;
        }
    }
    send(OP_SHUTDOWN, port, peer, SHUTDOWN_BOTH, 0, 0);
    kprintf("vsock: listen port=%u echoed=%lu\n", port, echoed);
}

/* ---- the guest ---- */

static uint64_t discover(uint64_t unused)
{
    (void)unused;
    device_count = virtio_pci_scan(devices, MAX_DEVICES);
    for (int i = 0; i < device_count && !vsock; i++)
        if (devices[i].type == VIRTIO_TYPE_VSOCK)
            vsock = &devices[i];
    return 0;
}

static uint64_t run(uint64_t unused)
{
    (void)unused;
    if (!virtio_start(vsock, 0)) {
        kprintf("vsock: start failed status=0x%x\n", virtio_status(vsock));
        return 0;
    }
    if (!virtq_setup(vsock, &rx, 0, QUEUE_SIZE, rx_memory) || !virtq_setup(vsock, &tx, 1, QUEUE_SIZE, tx_memory)
        || !virtq_setup(vsock, &events, 2, QUEUE_SIZE, event_memory)) {
        kprintf("vsock: queue setup failed\n");
        return 0;
    }
    uint8_t status = virtio_driver_ok(vsock);
    guest_cid = virtio_config_read64(vsock, 0);
    kprintf("vsock: device 00:%02x.%u cid=%lu features=0x%lx status=0x%x\n", vsock->dev, vsock->fn, guest_cid,
            vsock->features, status);
    if (status & 0xC0)
        return 0;
    post_rx(); /* one receive buffer is always posted from here on */
    uint64_t port, echoes = 8;
    if (cmdline_get_u64("connect", &port))
        run_connect((uint32_t)port);
    cmdline_get_u64("echo", &echoes);
    if (cmdline_get_u64("listen", &port))
        run_listen((uint32_t)port, echoes);
    return 0;
}

void guest_main(void)
{
    kprintf("vsock: guest kit vsock started\n");
    user_call(discover, 0);
    if (!vsock) {
        kprintf("vsock: none\n");
    } else if (!virtio_pci_map(vsock)) {
        kprintf("vsock: map failed\n");
    } else {
        user_call(run, 0);
    }
    kprintf("vsock: done\n");
}
