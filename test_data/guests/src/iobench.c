/* iobench: N port writes to an unassigned port (0x500) from ring 3, timed with
 * rdtsc; port 0x80 gets 0x42 just before and 0x43 just after the loop. */
#include "runtime.h"

#define DEFAULT_ITERATIONS 100000
#define BENCH_PORT         0x500

struct bench {
    uint64_t iterations;
    uint64_t cycles;
};

static uint64_t bench_ring3(uint64_t arg)
{
    struct bench *b = (struct bench *)arg;
    uint64_t n = b->iterations;
    outb(0x80, 0x42);
    uint64_t start = rdtsc();
    for (uint64_t i = 0; i < n; i++)
        outb(BENCH_PORT, (uint8_t)i);
    uint64_t end = rdtsc();
    outb(0x80, 0x43);
    b->cycles = end - start;
    return 0;
}

void guest_main(void)
{
    static struct bench b;
    kprintf("iobench: guest kit iobench started\n");
    if (!cmdline_get_u64("iters", &b.iterations) || b.iterations == 0)
        b.iterations = DEFAULT_ITERATIONS;
    user_call(bench_ring3, (uint64_t)&b);
    kprintf("iobench: iterations=%lu\n", b.iterations);
    kprintf("iobench: tsc-cycles total=%lu per-iteration=%lu\n", b.cycles, b.cycles / b.iterations);
    kprintf("iobench: done\n");
}
