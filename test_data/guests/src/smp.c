/* smp: starts every enabled application processor the MADT lists with INIT,
 * SIPI, SIPI, as an OS does. Each AP runs the real-mode trampoline at
 * AP_TRAMPOLINE (ap.S), reaches long mode, prints "smp: cpu apic=N online",
 * counts itself and halts. The BSP waits (bounded) for them all, prints
 * "smp: online=N of M" (N counts the BSP) and powers off.
 *
 * With the command-line word `wake-online-capable` it then also sends INIT,
 * SIPI, SIPI to the processors the MADT lists as online-capable but not
 * enabled (hot-pluggable, not yet present) and reports how many answered:
 * a VMM that has not created them leaves the count at 0 (after 1 s).
 *
 * Waiting runs in ring 3 (user_call): every ring-0 instruction may be emulated. */
#include "runtime.h"

#define MAX_CPUS           64
#define INIT_DELAY_US      10000
#define SIPI_DELAY_US      200
#define ONLINE_TIMEOUT_US  5000000
#define PROBE_TIMEOUT_US   1000000
#define ASSUMED_TSC_KHZ    3000000

struct cpu_list {
    uint32_t enabled[MAX_CPUS];
    int enabled_count;
    uint32_t online_capable[MAX_CPUS];
    int online_capable_count;
};

static volatile uint32_t console;
static volatile uint32_t aps_online;
static uint64_t tsc_khz;

#define say(...) do { spin_lock(&console); kprintf(__VA_ARGS__); spin_unlock(&console); } while (0)

/* ---- time: TSC, frequency from CPUID ---- */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static const char *detect_tsc_khz(void)
{
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (c & (1u << 31)) { /* hypervisor: leaf 0x40000010 is the TSC frequency (kHz) where offered */
        cpuid(0x40000000, &a, &b, &c, &d);
        if (a >= 0x40000010) {
            cpuid(0x40000010, &a, &b, &c, &d);
            if (a) {
                tsc_khz = a;
                return "hypervisor";
            }
        }
    }
    cpuid(0, &a, &b, &c, &d);
    uint32_t max_leaf = a;
    if (max_leaf >= 0x15) {
        cpuid(0x15, &a, &b, &c, &d);
        if (a && b && c) {
            tsc_khz = (uint64_t)c * b / a / 1000;
            return "cpuid15";
        }
    }
    if (max_leaf >= 0x16) {
        cpuid(0x16, &a, &b, &c, &d);
        if (a & 0xFFFF) {
            tsc_khz = (uint64_t)(a & 0xFFFF) * 1000;
            return "cpuid16";
        }
    }
    tsc_khz = ASSUMED_TSC_KHZ;
    return "assumed";
}

static uint64_t cycles(uint64_t microseconds)
{
    return microseconds * tsc_khz / 1000;
}

static uint64_t delay_ring3(uint64_t tsc_cycles)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < tsc_cycles)
        __asm__ volatile("pause");
    return 0;
}

static void delay_us(uint64_t microseconds)
{
    user_call(delay_ring3, cycles(microseconds));
}

struct online_wait {
    uint32_t expected;
    uint64_t tsc_cycles;
};

/* Returns the APs online once `expected` are, or at the deadline. */
static uint64_t wait_online_ring3(uint64_t arg)
{
    const struct online_wait *w = (const struct online_wait *)arg;
    uint64_t start = rdtsc();
    while (aps_online < w->expected && rdtsc() - start < w->tsc_cycles)
        __asm__ volatile("pause");
    return aps_online;
}

static uint32_t wait_online(uint32_t expected, uint64_t timeout_us)
{
    struct online_wait w = { expected, cycles(timeout_us) };
    return (uint32_t)user_call(wait_online_ring3, (uint64_t)&w);
}

/* ---- the MADT's processors ---- */

static void add(uint32_t *ids, int *count, uint32_t id)
{
    if (*count < MAX_CPUS)
        ids[(*count)++] = id;
}

static bool read_madt(struct cpu_list *cpus)
{
    const struct acpi_header *madt = acpi_find_table("APIC");
    if (!madt)
        return false;
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8; /* LAPIC address, flags */
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
        uint32_t id, flags;
        if (p[0] == 0 && p[1] >= 8) {          /* processor local APIC */
            id = p[3];
            flags = *(const uint32_t *)(p + 4);
        } else if (p[0] == 9 && p[1] >= 16) {  /* processor local x2APIC */
            id = *(const uint32_t *)(p + 4);
            flags = *(const uint32_t *)(p + 8);
        } else {
            continue;
        }
        if (flags & 1)
            add(cpus->enabled, &cpus->enabled_count, id);
        else if (flags & 2)
            add(cpus->online_capable, &cpus->online_capable_count, id);
    }
    return true;
}

static void print_ids(const char *label, const uint32_t *ids, int count)
{
    kprintf("smp: %s=", label);
    for (int i = 0; i < count; i++)
        kprintf(i ? ",%u" : "%u", ids[i]);
    if (!count)
        kprintf("none");
    kprintf("\n");
}

/* ---- start-up ---- */

/* The trampoline page must be RAM the loader reported, and free of its data. */
static bool trampoline_page_usable(void)
{
    struct mem_region map[32];
    int n = boot_memmap(map, 32);
    if (boot_info >= AP_TRAMPOLINE && boot_info < AP_TRAMPOLINE + 0x1000)
        return false;
    for (int i = 0; i < n && i < 32; i++)
        if (map[i].type == MEM_TYPE_RAM && map[i].base <= AP_TRAMPOLINE &&
            map[i].base + map[i].size >= AP_TRAMPOLINE + 0x1000)
            return true;
    return false;
}

static void ap_main(uint32_t index)
{
    (void)index;
    uint32_t id = lapic_id();
    say("smp: cpu apic=%u online\n", id);
    __atomic_add_fetch(&aps_online, 1, __ATOMIC_SEQ_CST);
}

/* INIT, SIPI, SIPI with the customary delays (Intel SDM 8.4.4.1, Linux). */
static void start_ap(uint32_t apic_id)
{
    lapic_send_ipi(apic_id, ICR_INIT_ASSERT);
    lapic_send_ipi(apic_id, ICR_INIT_DEASSERT);
    delay_us(INIT_DELAY_US);
    for (int i = 0; i < 2; i++) {
        lapic_send_ipi(apic_id, ICR_STARTUP | (AP_TRAMPOLINE >> 12));
        delay_us(SIPI_DELAY_US);
    }
}

/* Starts each listed AP but this CPU; returns how many it started. */
static uint32_t start_aps(const uint32_t *ids, int count, uint32_t bsp)
{
    uint32_t started = 0;
    for (int i = 0; i < count; i++) {
        if (ids[i] == bsp)
            continue;
        start_ap(ids[i]);
        started++;
    }
    return started;
}

void guest_main(void)
{
    static struct cpu_list cpus;
    kprintf("smp: guest kit smp started\n");
    uint32_t bsp = lapic_id();
    bool x2 = (rdmsr(0x1B) & (1u << 10)) != 0;
    kprintf("smp: bsp apic=%u mode=%s\n", bsp, x2 ? "x2apic" : "xapic");
    const char *source = detect_tsc_khz();
    kprintf("smp: tsc-khz=%lu source=%s\n", tsc_khz, source);
    if (!read_madt(&cpus)) {
        kprintf("smp: madt none\n");
        return;
    }
    kprintf("smp: cpus enabled=%d online-capable=%d\n", cpus.enabled_count, cpus.online_capable_count);
    print_ids("enabled-apic-ids", cpus.enabled, cpus.enabled_count);
    if (!trampoline_page_usable()) {
        kprintf("smp: trampoline 0x%x is not free RAM\n", AP_TRAMPOLINE);
        return;
    }
    kprintf("smp: trampoline=0x%x vector=0x%02x\n", AP_TRAMPOLINE, AP_TRAMPOLINE >> 12);
    ap_prepare(ap_main);

    uint32_t expected = start_aps(cpus.enabled, cpus.enabled_count, bsp);
    uint32_t online = wait_online(expected, ONLINE_TIMEOUT_US);
    say("smp: online=%u of %d\n", online + 1, cpus.enabled_count);

    if (cmdline_has_word("wake-online-capable")) {
        uint32_t tried = start_aps(cpus.online_capable, cpus.online_capable_count, bsp);
        uint32_t now = wait_online(online + tried, PROBE_TIMEOUT_US);
        say("smp: online-capable answered=%u of %u\n", now - online, tried);
    }
    say("smp: done\n");
}
