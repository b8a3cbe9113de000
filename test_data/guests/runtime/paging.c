/* Extra 2 MiB identity-mapped pages above the static 4 GiB map (entry.S), for
 * MMIO that the VMM places high (e.g. Cloud Hypervisor's ACPI GED, 64-bit BARs),
 * within one 512 GiB region and at most two 1 GiB regions. */
#include "runtime.h"

#define PTE_PRESENT      0x001
#define PTE_TABLE        0x007   /* present, writable, user */
#define PTE_LARGE_MMIO   0x09F   /* present, writable, user, PWT, PCD, 2 MiB */
#define PTE_ADDRESS      0x000FFFFFFFFFF000ull
#define LARGE_PAGE_MASK  0x1FFFFFull

extern uint64_t pml4[512];
#define SPARE_PDS        2

extern uint64_t spare_pdpt[512];
extern uint64_t spare_pd[SPARE_PDS][512];

static bool spare_pdpt_used;
static int spare_pds_used;

/* The table an entry points to, installing a spare one if it is empty. */
static uint64_t *next_table(uint64_t *entry, uint64_t *spare, bool *spare_used)
{
    if (!(*entry & PTE_PRESENT)) {
        if (*spare_used)
            return NULL;
        *spare_used = true;
        *entry = (uint64_t)spare | PTE_TABLE;
    }
    return phys(*entry & PTE_ADDRESS);
}

bool map_high_page(uint64_t address)
{
    if (address >> 48)
        return false;
    uint64_t *pdpt = next_table(&pml4[(address >> 39) & 511], spare_pdpt, &spare_pdpt_used);
    if (!pdpt)
        return false;
    uint64_t *pd_entry = &pdpt[(address >> 30) & 511];
    if (!(*pd_entry & PTE_PRESENT)) {
        if (spare_pds_used == SPARE_PDS)
            return false;
        *pd_entry = (uint64_t)spare_pd[spare_pds_used++] | PTE_TABLE;
    }
    uint64_t *pd = phys(*pd_entry & PTE_ADDRESS);
    pd[(address >> 21) & 511] = (address & ~LARGE_PAGE_MASK) | PTE_LARGE_MMIO;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
    return true;
}
