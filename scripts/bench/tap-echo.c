/* tap-echo IFNAME: returns every frame of ethertype 0x88B5 that arrives from IFNAME (a TAP, so from the VMM: the
 * guest's frames) to its sender, from MAC 06:06:06:06:06:06, until SIGTERM; then prints how many it echoed.
 * Built by scripts/bench/devices.py for the virtio-net latency benchmark. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tap-echo IFNAME\n");
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(0x88B5));
    if (fd < 0) {
        perror("tap-echo: socket");
        return 1;
    }
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(0x88B5),
                                   .sll_ifindex = (int)if_nametoindex(argv[1]) };
    if (address.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
        perror("tap-echo: bind");
        return 1;
    }
    struct sigaction action = { .sa_handler = on_term }; /* no SA_RESTART: recvfrom returns EINTR */
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("ready\n");
    fflush(stdout);

    static unsigned char frame[2048];
    unsigned long long echoed = 0;
    while (!stop) {
        struct sockaddr_ll from;
        socklen_t from_length = sizeof(from);
        ssize_t n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &from_length);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("tap-echo: recvfrom");
            return 1;
        }
        if (from.sll_pkttype == PACKET_OUTGOING || n < 14)
            continue;
        memcpy(frame, frame + 6, 6);
        memset(frame + 6, 0x06, 6);
        if (send(fd, frame, (size_t)n, 0) == n)
            echoed++;
    }
    printf("{\"echoed\": %llu}\n", echoed);
    return 0;
}
