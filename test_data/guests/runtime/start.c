/* From the 64-bit entry to guest_main and on to shutdown. */
#include "runtime.h"

extern char linux32_entry[];

void runtime_start(void);

void runtime_start(void)
{
    cpu_init();
    /* Self-test of the bzImage 64-bit entry: re-enter through it from long mode,
     * as a 64-bit boot loader would, with RSI = boot_params. */
    if (boot_protocol == BOOT_LINUX32 && cmdline_has_word("guestkit.entry64")) {
        uint64_t entry = (uint64_t)linux32_entry + LINUX64_ENTRY_OFFSET;
        __asm__ volatile("jmp *%0" : : "r"(entry), "S"((uint64_t)boot_info));
        __builtin_unreachable();
    }
    /* Firmware (SeaBIOS on q35) may leave a partial line on the serial port. */
    serial_putc('\n');
    guest_main();
    acpi_shutdown();
}
