/*
 * Guest kit entry code: boot entry points, the switch to long mode, static
 * identity page tables, the PVH ELF note, interrupt stubs and the ring-3 call.
 *
 * Image layout (linked at 1 MiB, see linker.ld):
 *   0x100000  linux32_entry  Linux 32-bit boot protocol entry (code32_start)
 *   0x100200  linux64_entry  Linux 64-bit entry (XLF_KERNEL_64: startup_32 + 0x200)
 *   pvh_entry is named by the PVH note (XEN_ELFNOTE_PHYS32_ENTRY).
 * All three write the boot marker 0x41 to port 0x80 first.
 */
#include "layout.h"
#include "long_mode.h"

        .section .head, "ax"
        .code32
        .globl linux32_entry
linux32_entry:
        /* ESI = boot_params, DS/ES/SS flat, paging off. EBP = SETUP_MAGIC
         * when our own real-mode setup code ran first. */
        movb    $BOOT_MARKER, %al
        outb    %al, $0x80
        movl    $BOOT_LINUX32, boot_protocol
        movl    %esi, boot_info
        cmpl    $SETUP_MAGIC, %ebp
        jne     common32
        movl    $1, boot_via_realmode_setup
        jmp     common32

        .org    0x200
        .code64
        .globl linux64_entry
linux64_entry:
        /* Long mode with the loader's identity map, RSI = boot_params. */
        movb    $BOOT_MARKER, %al
        outb    %al, $0x80
        cli
        movl    $BOOT_LINUX64, boot_protocol(%rip)
        movl    %esi, boot_info(%rip)
        lgdt    gdt_ptr(%rip)
        movl    $pml4, %eax
        movq    %rax, %cr3
        pushq   $SEL_KERNEL_CODE64
        pushq   $long64
        lretq

        .text
        .code32
        .globl pvh_entry
pvh_entry:
        /* EBX = hvm_start_info, paging off, flat segments. */
        movb    $BOOT_MARKER, %al
        outb    %al, $0x80
        movl    $BOOT_PVH, boot_protocol
        movl    %ebx, boot_info

common32:
        cli
        lgdt    gdt_ptr
        ljmp    $SEL_KERNEL_CODE32, $1f
1:      enter_long_mode long64

        .code64
long64:
        load_data_segments
        movq    $kernel_stack_top, %rsp
        movq    $__bss_start, %rdi
        movq    $__bss_end, %rcx
        subq    %rdi, %rcx
        shrq    $3, %rcx
        xorl    %eax, %eax
        cld
        rep stosq
        call    runtime_start
2:      cli
        hlt
        jmp     2b

/*
 * uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg)
 * Runs fn(arg) in ring 3 with IOPL=3 and interrupts off. To come back, ring 3
 * executes ud2 at user_exit; the #UD handler recognizes that address and calls
 * user_resume, which restores the ring-0 context saved here. (A software
 * interrupt would be the usual way, but `int n` from ring 3 raises #UD under
 * nested KVM, whose emulator lacks it; exceptions are delivered fine.)
 */
        .globl user_call
user_call:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, saved_kernel_rsp(%rip)
        pushq   $SEL_USER_DATA
        pushq   $user_stack_top
        pushq   $0x3002                         /* IOPL=3, IF=0 (the TSS I/O bitmap also allows all ports) */
        pushq   $SEL_USER_CODE64
        pushq   $user_trampoline
        iretq

user_trampoline:
        movq    %rdi, %rax
        movq    %rsi, %rdi
        call    *%rax
        movq    %rax, %rdi
        .globl user_exit
user_exit:
        ud2

/* void user_resume(uint64_t result): back to user_call's caller, in ring 0. */
        .globl user_resume
user_resume:
        movq    saved_kernel_rsp(%rip), %rsp
        movq    %rdi, %rax
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

/* One 16-byte stub per vector: push a dummy error code where the CPU pushes
 * none, push the vector, join the common path. */
        .balign 16
        .globl isr_stubs
isr_stubs:
        .set    vec, 0
        .rept   256
        .balign 16
        .if     (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        pushq   $vec
        .else
        pushq   $0
        pushq   $vec
        .endif
        jmp     isr_common
        .set    vec, vec + 1
        .endr

isr_common:
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, %rdi
        cld
        call    interrupt_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rax
        addq    $16, %rsp
        iretq

        .data
        .globl boot_protocol, boot_info, boot_via_realmode_setup
        /* In .data, not .bss: written before .bss is cleared. */
boot_protocol:          .long 0
boot_info:              .long 0
boot_via_realmode_setup: .long 0
saved_kernel_rsp:       .quad 0

        .balign 16
        .globl gdt
gdt:
        .quad   0
        .quad   0x00AF9A000000FFFF              /* 0x08 kernel code, 64-bit */
        .quad   0x00CF92000000FFFF              /* 0x10 kernel data */
        .quad   0x00CF9A000000FFFF              /* 0x18 kernel code, 32-bit */
        .quad   0x00CFF2000000FFFF              /* 0x20 user data */
        .quad   0x00AFFA000000FFFF              /* 0x28 user code, 64-bit */
        .quad   0, 0                            /* 0x30 TSS, filled in by cpu_init */
gdt_end:
        .balign 8
        .word   0
        .word   0
        .word   0
gdt_ptr:
        .word   gdt_end - gdt - 1
        .quad   gdt

/* Identity map of the first 4 GiB with 2 MiB pages, user-accessible so that
 * ring-3 code can reach everything. Built by the assembler: no boot-time work. */
        .section .pagetables, "aw"
        .balign 4096
        .globl pml4
pml4:
        .quad   pdpt + 0x7
        .fill   511, 8, 0
pdpt:
        .quad   pd + 0x0000 + 0x7
        .quad   pd + 0x1000 + 0x7
        .quad   pd + 0x2000 + 0x7
        .quad   pd + 0x3000 + 0x7
        .fill   508, 8, 0
pd:
        .set    addr, 0
        .rept   2048
        .quad   addr + 0x87                     /* P | W | U | PS */
        .set    addr, addr + 0x200000
        .endr

/* Spare tables for map_high_page (paging.c): 2 MiB pages above 4 GiB, in up to
 * two 1 GiB regions (e.g. the platform area and a 64-bit BAR below it).
 * Here rather than in .bss so that boot does not spend time clearing them. */
        .globl spare_pdpt, spare_pd
        .balign 4096
spare_pdpt:
        .fill   512, 8, 0
spare_pd:
        .fill   1024, 8, 0

        .section .stack, "aw", @nobits
        .balign 16
        .space  KERNEL_STACK_SIZE
        .globl kernel_stack_top
kernel_stack_top:
        .space  INTERRUPT_STACK_SIZE
        .globl interrupt_stack_top
interrupt_stack_top:
        .space  USER_STACK_SIZE
        .globl user_stack_top
user_stack_top:

/* PVH: XEN_ELFNOTE_PHYS32_ENTRY (18), name "Xen", 32-bit entry address. */
        .section .note.Xen, "a", @note
        .balign 4
        .long   4
        .long   4
        .long   18
        .asciz  "Xen"
        .balign 4
        .long   pvh_entry
        .balign 4

        .section .note.GNU-stack, "", @progbits
