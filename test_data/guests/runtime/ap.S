/*
 * Application processor start-up. A SIPI starts an AP in real mode at
 * vector << 12 with CS = vector << 8, IP = 0; the trampoline below is copied to
 * AP_TRAMPOLINE (smp.c) and takes the AP to 32-bit protected mode on the BSP's
 * GDT, then into the image, where ap_entry32 enables long mode with the same
 * page tables, takes a stack and calls ap_main_fn(index). Returning halts.
 */
#include "layout.h"
#include "long_mode.h"

        .text
        .code16
        .globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_gdtr
ap_trampoline_start:
        cli
        cld
        movb    $BOOT_MARKER, %al
        outb    %al, $0x80
        movw    %cs, %ax
        movw    %ax, %ds
        lgdtl   ap_trampoline_gdtr - ap_trampoline_start
        movl    %cr0, %eax
        orl     $0x1, %eax                      /* PE */
        movl    %eax, %cr0
        ljmpl   $SEL_KERNEL_CODE32, $ap_entry32
        .balign 8
        .word   0
ap_trampoline_gdtr:                             /* limit, 32-bit base: the BSP's GDTR (smp.c) */
        .word   0
        .long   0
ap_trampoline_end:

        .code32
ap_entry32:
        enter_long_mode ap_long64

        .code64
ap_long64:
        load_data_segments
        lidt    ap_idtr(%rip)
        movl    $1, %eax
        lock xaddl %eax, ap_next_index(%rip)
        cmpl    $AP_MAX, %eax
        jae     1f
        movl    %eax, %edi                      /* ap_main_fn's argument */
        leal    1(%rax), %ecx
        shlq    $AP_STACK_SHIFT, %rcx
        leaq    ap_stacks(%rip), %rsp
        addq    %rcx, %rsp
        call    *ap_main_fn(%rip)
1:      cli
        hlt
        jmp     1b

        .data
        .globl ap_main_fn, ap_idtr, ap_next_index
        .balign 8
ap_main_fn:     .quad 0
ap_next_index:  .long 0
        .balign 8
        .word   0, 0, 0
ap_idtr:        .word 0                         /* filled from the BSP's IDTR (smp.c) */
        .quad   0

        .section .stack, "aw", @nobits
        .balign 16
ap_stacks:
        .space  AP_MAX << AP_STACK_SHIFT

        .section .note.GNU-stack, "", @progbits
