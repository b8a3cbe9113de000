/* Descriptor tables, the TSS, interrupt handling and the 8259 PICs. */
#include "runtime.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    /* All zero: every port allowed from ring 3. Some hypervisors drop IOPL on
     * the way to ring 3 (seen with nested KVM), so IOPL=3 alone is not enough. */
    uint8_t io_bitmap[8192];
    uint8_t io_bitmap_end; /* must be 0xFF */
} __attribute__((packed));

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Saved by isr_common in entry.S, lowest address first. */
struct interrupt_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

extern uint64_t gdt[];
extern char isr_stubs[];
extern char user_exit[];
__attribute__((noreturn)) void user_resume(uint64_t result);
extern char interrupt_stack_top[];

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static bool x2apic_mode;
volatile uint64_t interrupt_count;

static void set_gate(int vector, void *handler, int dpl)
{
    uint64_t a = (uint64_t)handler;
    struct idt_gate *g = &idt[vector];
    g->offset_low = (uint16_t)a;
    g->selector = SEL_KERNEL_CODE64;
    g->ist = 0;
    g->type_attr = (uint8_t)(0x8E | (dpl << 5)); /* present, 64-bit interrupt gate */
    g->offset_mid = (uint16_t)(a >> 16);
    g->offset_high = (uint32_t)(a >> 32);
    g->reserved = 0;
}

void cpu_init(void)
{
    tss.rsp[0] = (uint64_t)interrupt_stack_top;
    tss.iomap_base = __builtin_offsetof(struct tss64, io_bitmap);
    tss.io_bitmap_end = 0xFF;
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    gdt[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
                       (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

    for (int v = 0; v < 256; v++)
        set_gate(v, isr_stubs + 16 * v, 0);
    struct descriptor_pointer idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    x2apic_mode = (rdmsr(0x1B) & (1u << 10)) != 0;
}

void lapic_enable(void)
{
    /* Spurious-interrupt vector register: APIC software enable (bit 8), spurious vector 0xFF. */
    if (x2apic_mode)
        wrmsr(0x80F, 0x1FF);
    else
        mmio_write32(0xFEE000F0, 0x1FF);
}

void lapic_lint1_nmi(void)
{
    /* LVT LINT1: delivery mode NMI (4 << 8), edge, unmasked. */
    if (x2apic_mode)
        wrmsr(0x836, 0x400);
    else
        mmio_write32(0xFEE00360, 0x400);
}

static void lapic_eoi(void)
{
    if (x2apic_mode)
        wrmsr(0x80B, 0);
    else
        mmio_write32(0xFEE000B0, 0);
}

static interrupt_handler handlers[256];
static nmi_handler on_nmi;

void set_nmi_handler(nmi_handler fn)
{
    on_nmi = fn;
}

void set_interrupt_handler(uint8_t vector, interrupt_handler fn)
{
    handlers[vector] = fn;
}

void interrupt_dispatch(struct interrupt_frame *f)
{
    if (f->vector >= 32) {
        interrupt_count++;
        if (handlers[f->vector & 0xFF])
            handlers[f->vector & 0xFF](f->vector);
        if (f->vector != 0xFF) /* the LAPIC spurious vector takes no EOI */
            lapic_eoi();
        return;
    }
    if (f->vector == 6 && f->rip == (uint64_t)user_exit && (f->cs & 3) == 3)
        user_resume(f->rdi); /* ring-3 function finished: see user_call in entry.S */
    if (f->vector == 2) { /* NMI: ignored unless a guest asked for it */
        if (on_nmi)
            on_nmi();
        return;
    }
    if (f->vector == 15) /* reserved vector a stray PIC IRQ 7 may use */
        return;
    kprintf("exception: vector=%lu error=0x%lx rip=0x%lx cs=0x%lx rflags=0x%lx rsp=0x%lx\n",
            f->vector, f->error, f->rip, f->cs, f->rflags, f->rsp);
    halt_forever();
}

void pic_mask_all(void)
{
    /* ICW1-4: edge, cascade, vectors 0x20/0x28, 8086 mode; then mask everything. */
    outb(0x20, 0x11); outb(0xA0, 0x11);
    outb(0x21, 0x20); outb(0xA1, 0x28);
    outb(0x21, 0x04); outb(0xA1, 0x02);
    outb(0x21, 0x01); outb(0xA1, 0x01);
    outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}
