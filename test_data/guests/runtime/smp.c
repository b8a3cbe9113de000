/* Starting application processors: the local APIC's ID and interrupt command
 * register (xAPIC MMIO or x2APIC MSRs), and the real-mode trampoline (ap.S). */
#include "runtime.h"

#define APIC_BASE_MSR       0x1B
#define APIC_BASE_X2APIC    (1u << 10)
#define XAPIC_BASE          0xFEE00000ull
#define XAPIC_ID            0x020
#define XAPIC_ICR_LOW       0x300
#define XAPIC_ICR_HIGH      0x310
#define X2APIC_ID_MSR       0x802
#define X2APIC_ICR_MSR      0x830
#define ICR_DELIVERY_STATUS (1u << 12)

extern char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_gdtr[];
extern void (*ap_main_fn)(uint32_t index);
extern uint8_t ap_idtr[10];

struct descriptor_register {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static bool x2apic(void)
{
    return (rdmsr(APIC_BASE_MSR) & APIC_BASE_X2APIC) != 0;
}

uint32_t lapic_id(void)
{
    if (x2apic())
        return (uint32_t)rdmsr(X2APIC_ID_MSR);
    return mmio_read32(XAPIC_BASE + XAPIC_ID) >> 24;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t command)
{
    if (x2apic()) {
        wrmsr(X2APIC_ICR_MSR, ((uint64_t)apic_id << 32) | command);
        return;
    }
    mmio_write32(XAPIC_BASE + XAPIC_ICR_HIGH, apic_id << 24);
    mmio_write32(XAPIC_BASE + XAPIC_ICR_LOW, command);
    /* Bounded: an in-kernel LAPIC clears the bit at once. */
    for (int i = 0; i < 1000 && (mmio_read32(XAPIC_BASE + XAPIC_ICR_LOW) & ICR_DELIVERY_STATUS); i++)
        __asm__ volatile("pause");
}

void ap_prepare(void (*fn)(uint32_t index))
{
    size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);
    uint8_t *trampoline = phys(AP_TRAMPOLINE);
    memcpy(trampoline, ap_trampoline_start, size);
    /* The trampoline loads the BSP's GDT (below 4 GiB: the image is at 1 MiB). */
    struct descriptor_register gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    uint8_t *gdtr32 = trampoline + (ap_trampoline_gdtr - ap_trampoline_start);
    memcpy(gdtr32, &gdtr.limit, 2);
    uint32_t base32 = (uint32_t)gdtr.base;
    memcpy(gdtr32 + 2, &base32, 4);
    __asm__ volatile("sidt %0" : "=m"(*(struct descriptor_register *)ap_idtr));
    ap_main_fn = fn;
    __asm__ volatile("mfence" ::: "memory");
}

void spin_lock(volatile uint32_t *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        while (*lock)
            __asm__ volatile("pause");
}

void spin_unlock(volatile uint32_t *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}
