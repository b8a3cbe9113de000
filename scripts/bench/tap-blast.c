/* tap-blast IFNAME [FRAME_BYTES [FLOWS]]: sends broadcast frames of ethertype 0x88B5 out of IFNAME (a TAP, so they
 * reach the VMM reading it) as fast as sendmmsg allows, until SIGTERM; then prints the frames sent per second.
 * With FLOWS > 1 (at most 64) the frames are IPv4/UDP to port 0x88B5 from FLOWS source ports in turn: a
 * multi-queue TAP puts each frame on the queue its flow hash picks (tun's automatic steering), so distinct flows
 * spread over the queues the VMM reads. Built by scripts/bench/devices.py for the virtio-net receive benchmarks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define UDP_PORT 0x88B5
#define FIRST_SOURCE_PORT 10000

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

static uint16_t ip_checksum(const unsigned char *header, size_t bytes)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < bytes; i += 2)
        sum += (uint32_t)(header[i] << 8 | header[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Broadcast IPv4/UDP frame of frame_bytes from 10.0.0.1:source_port to 10.0.0.2:UDP_PORT. */
static void udp_frame(unsigned char *frame, size_t frame_bytes, uint16_t source_port)
{
    memset(frame, 0, frame_bytes);
    memset(frame, 0xFF, 6);
    memset(frame + 6, 0x02, 6);
    frame[12] = 0x08;
    unsigned char *ip = frame + 14, *udp = ip + 20;
    size_t ip_bytes = frame_bytes - 14, udp_bytes = ip_bytes - 20;
    ip[0] = 0x45;
    ip[2] = (unsigned char)(ip_bytes >> 8);
    ip[3] = (unsigned char)ip_bytes;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (unsigned char[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
    uint16_t checksum = ip_checksum(ip, 20);
    ip[10] = (unsigned char)(checksum >> 8);
    ip[11] = (unsigned char)checksum;
    udp[0] = (unsigned char)(source_port >> 8);
    udp[1] = (unsigned char)source_port;
    udp[2] = UDP_PORT >> 8;
    udp[3] = UDP_PORT & 0xFF;
    udp[4] = (unsigned char)(udp_bytes >> 8);
    udp[5] = (unsigned char)udp_bytes;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tap-blast IFNAME [FRAME_BYTES [FLOWS]]\n");
        return 2;
    }
    size_t frame_bytes = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
    int flows = argc > 3 ? atoi(argv[3]) : 1;
    if (frame_bytes < 14 || frame_bytes > 1514 || flows < 1 || flows > BATCH || (flows > 1 && frame_bytes < 42)) {
        fprintf(stderr, "tap-blast: frame size must be 14..1514 (42.. with flows), flows 1..%d\n", BATCH);
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        perror("tap-blast: socket");
        return 1;
    }
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1]),
                                   .sll_halen = ETH_ALEN };
    if (address.sll_ifindex == 0) {
        perror("tap-blast: if_nametoindex");
        return 1;
    }
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
        perror("tap-blast: bind");
        return 1;
    }
    static unsigned char frames[BATCH][1514];
    struct iovec iov[BATCH];
    for (int i = 0; i < flows; i++) {
        if (flows > 1) {
            udp_frame(frames[i], frame_bytes, (uint16_t)(FIRST_SOURCE_PORT + i));
        } else {
            memset(frames[i], 0xFF, 6);
            memset(frames[i] + 6, 0x02, 6);
            frames[i][12] = 0x88;
            frames[i][13] = 0xB5;
        }
        iov[i] = (struct iovec){ frames[i], frame_bytes };
    }
    struct mmsghdr messages[BATCH];
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < BATCH; i++) {
        messages[i].msg_hdr.msg_iov = &iov[i % flows];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    struct sigaction action = { .sa_handler = on_term };
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("ready\n");
    fflush(stdout);

    unsigned long long sent = 0;
    double start = now();
    while (!stop) {
        int n = sendmmsg(fd, messages, BATCH, 0);
        if (n > 0)
            sent += (unsigned long long)n;
    }
    double seconds = now() - start;
    printf("{\"frames\": %llu, \"seconds\": %.3f, \"pps\": %.0f}\n", sent, seconds, seconds > 0 ? sent / seconds : 0);
    return 0;
}
