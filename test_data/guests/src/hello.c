/* hello: boot protocol, command line and memory map, then ACPI shutdown. */
#include "runtime.h"

#define MAX_REGIONS 64

void guest_main(void)
{
    static struct mem_region map[MAX_REGIONS];

    kprintf("hello: guest kit hello started\n");
    kprintf("hello: boot=%s\n", boot_protocol_name());
    kprintf("hello: entry=%s\n", boot_entry_name());
    if (boot_protocol != BOOT_PVH)
        kprintf("hello: linux-setup=%s\n", boot_via_realmode_setup ? "realmode" : "none");
    kprintf("hello: cmdline=%s\n", boot_cmdline());

    int n = boot_memmap(map, MAX_REGIONS);
    if (n > MAX_REGIONS)
        n = MAX_REGIONS;
    uint64_t ram = 0;
    for (int i = 0; i < n; i++) {
        kprintf("hello: mem base=0x%lx size=0x%lx type=%u\n", map[i].base, map[i].size, map[i].type);
        if (map[i].type == MEM_TYPE_RAM)
            ram += map[i].size;
    }
    kprintf("hello: mem entries=%d\n", n);
    kprintf("hello: ram bytes=%lu mib=%lu\n", ram, ram >> 20);
    kprintf("hello: done\n");
}
