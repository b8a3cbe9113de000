/* serial-echo: routes the 16550's IRQ 4 through the IOAPIC (pin 4 -> vector 0x24,
 * edge, or level with the command-line word "level"; fixed, physical destination
 * APIC 0), enables the UART's received-data interrupt and halts with interrupts on.
 * The interrupt handler collects bytes into lines (ended by CR or LF; empty lines
 * ignored) and prints each as "serial-echo: got <line>"; the line "quit" ends the
 * guest (ACPI shutdown). A level-triggered pin fires again only after the IOAPIC
 * has seen the EOI, so "level" checks that EOIs reach it. */
#include "runtime.h"

#define COM1 0x3F8
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01

#define SERIAL_PIN 4
#define ECHO_VECTOR 0x24

static char line[128];
static unsigned line_length;
static volatile bool quit_requested;
static volatile unsigned serial_interrupts;

static void end_line(void)
{
    if (line_length == 0)
        return;
    line[line_length] = '\0';
    kprintf("serial-echo: got %s\n", line);
    if (line_length == 4 && memcmp(line, "quit", 4) == 0)
        quit_requested = true;
    line_length = 0;
}

static void on_serial_interrupt(uint64_t vector)
{
    (void)vector;
    serial_interrupts++;
    (void)inb(COM1 + UART_IIR);
    while (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
        char c = (char)inb(COM1);
        if (c == '\r' || c == '\n')
            end_line();
        else if (line_length < sizeof(line) - 1)
            line[line_length++] = c;
    }
}

void guest_main(void)
{
    pic_mask_all();
    kprintf("serial-echo: guest kit serial-echo started\n");

    uint32_t version = ioapic_read(IOAPIC_VERSION);
    kprintf("serial-echo: ioapic version=0x%x entries=%u\n", version & 0xFF, ((version >> 16) & 0xFF) + 1);

    lapic_enable();
    set_interrupt_handler(ECHO_VECTOR, on_serial_interrupt);
    uint32_t low = IOAPIC_TABLE + 2 * SERIAL_PIN;
    ioapic_write(low + 1, 0u << 24);   /* destination APIC ID 0 */
    /* fixed, physical, active high, unmasked; edge unless asked for level (which needs EOIs to reach the IOAPIC) */
    bool level = cmdline_has_word("level");
    ioapic_write(low, ECHO_VECTOR | (level ? 1u << 15 : 0));
    kprintf("serial-echo: ioapic pin=%d entry=0x%08x%08x\n", SERIAL_PIN, ioapic_read(low + 1), ioapic_read(low));

    outb(COM1 + UART_MCR, 0x0B);       /* DTR, RTS, OUT2 (the IRQ gate on PC hardware) */
    outb(COM1 + UART_IER, 0x01);       /* received data available */
    kprintf("serial-echo: ready\n");

    while (!quit_requested)
        __asm__ volatile("sti; hlt; cli");

    kprintf("serial-echo: interrupts=%u\n", serial_interrupts);
    kprintf("serial-echo: done\n");
}
