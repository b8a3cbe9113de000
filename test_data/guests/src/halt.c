/* halt: announce readiness, then halt forever with interrupts enabled; every
 * interrupt is acknowledged (LAPIC EOI) and the loop halts again. */
#include "runtime.h"

void guest_main(void)
{
    pic_mask_all();
    kprintf("halt: ready\n");
    for (;;)
        __asm__ volatile("sti; hlt; cli");
}
