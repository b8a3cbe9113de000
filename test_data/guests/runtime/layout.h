/* Constants shared by assembly and C. */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define BOOT_MARKER             0x41    /* written to port 0x80 at entry */

#define BOOT_PVH                1
#define BOOT_LINUX32            2
#define BOOT_LINUX64            3

/* Left in EBP by bzimage/setup.S so the 32-bit entry can tell it ran. */
#define SETUP_MAGIC             0x53455455

#define SEL_KERNEL_CODE64       0x08
#define SEL_KERNEL_DATA         0x10
#define SEL_KERNEL_CODE32       0x18
#define SEL_USER_DATA           (0x20 | 3)
#define SEL_USER_CODE64         (0x28 | 3)
#define SEL_TSS                 0x30

#define KERNEL_STACK_SIZE       16384
#define INTERRUPT_STACK_SIZE    8192
#define USER_STACK_SIZE         16384

#define LINUX64_ENTRY_OFFSET    0x200

/* Application processors (ap.S, smp.c): the real-mode trampoline is copied to
 * AP_TRAMPOLINE (page aligned, below 1 MiB: the SIPI vector is its page number),
 * each AP takes one of AP_MAX stacks of 1 << AP_STACK_SHIFT bytes. */
#define AP_TRAMPOLINE           0x8000
#define AP_MAX                  32
#define AP_STACK_SHIFT          13

#endif
