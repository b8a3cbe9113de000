/* tap-blast IFNAME [FRAME_BYTES]: sends broadcast frames of ethertype 0x88B5 out of IFNAME (a TAP, so they
 * reach the VMM reading it) as fast as sendmmsg allows, until SIGTERM; then prints the frames sent per second.
 * Built by scripts/bench/io.py for the virtio-net receive benchmark. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tap-blast IFNAME [FRAME_BYTES]\n");
        return 2;
    }
    size_t frame_bytes = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
    if (frame_bytes < 14 || frame_bytes > 1514) {
        fprintf(stderr, "tap-blast: frame size must be 14..1514\n");
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
    static unsigned char frame[1514];
    memset(frame, 0xFF, 6);
    memset(frame + 6, 0x02, 6);
    frame[12] = 0x88;
    frame[13] = 0xB5;
    struct iovec iov = { frame, frame_bytes };
    struct mmsghdr messages[BATCH];
    memset(messages, 0, sizeof(messages));
    for (int i = 0; i < BATCH; i++) {
        messages[i].msg_hdr.msg_iov = &iov;
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
