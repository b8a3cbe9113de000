/* Assembler macros shared by entry.S (the boot processor) and ap.S (each application processor). */
#ifndef LONG_MODE_H
#define LONG_MODE_H

/* Loads every data segment register with the kit's kernel data selector; clobbers eax. */
.macro load_data_segments
        movl    $SEL_KERNEL_DATA, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %eax, %fs
        movl    %eax, %gs
.endm

/* From 32-bit protected mode on the kit's GDT to long mode on the static identity page tables (pml4), then a far
 * jump to the 64-bit code at \target. Caches are switched on (CR0.CD and NW cleared): an AP leaves INIT with them
 * off. Clobbers eax, ecx, edx. */
.macro enter_long_mode target
        load_data_segments
        movl    $pml4, %eax
        movl    %eax, %cr3
        movl    %cr4, %eax
        orl     $0x20, %eax                     /* PAE */
        movl    %eax, %cr4
        movl    $0xC0000080, %ecx               /* EFER */
        rdmsr
        orl     $0x100, %eax                    /* LME */
        wrmsr
        movl    %cr0, %eax
        andl    $0x9FFFFFFF, %eax               /* CD and NW off */
        orl     $0x80000001, %eax               /* PG | PE */
        movl    %eax, %cr0
        ljmp    $SEL_KERNEL_CODE64, $\target
.endm

#endif
