/*
 * A minimal Linux bzImage around a guest kit image (boot protocol 2.15).
 *
 * The file is: 512-byte boot sector (header at 0x1F1), the setup header at
 * 0x200 and a little real-mode setup code, padded to whole sectors; then the
 * protected-mode part (PAYLOAD, the guest's flat binary for 0x100000).
 *
 * Loaders that run the real-mode setup (QEMU -kernel) jump to setup_seg+0x20:0
 * with DS = ES = SS = setup_seg; this code builds boot_params, enters 32-bit
 * protected mode and jumps to code32_start with ESI = boot_params, as the
 * 32-bit boot protocol wants. Loaders that use the 32-bit protocol directly
 * never run it.
 */
#include "../runtime/layout.h"

/* Offset of the boot_params this code builds, within the setup segment. */
#define BOOT_PARAMS 0x1000

        .code16
        .text
        .globl _start
_start:
        .org    0x1F1
setup_sects:    .byte   (payload_start - _start) / 512 - 1
root_flags:     .word   0
syssize:        .long   (payload_end - payload_start + 15) / 16
ram_size:       .word   0
vid_mode:       .word   0xFFFF
root_dev:       .word   0
boot_flag:      .word   0xAA55

        /* 0x200 */
        .byte   0xEB, start_of_setup - 1f       /* jmp short */
1:      .ascii  "HdrS"
version:        .word   0x020F
realmode_swtch: .long   0
start_sys_seg:  .word   0x1000
kernel_version: .word   kernel_version_string - 0x200
type_of_loader: .byte   0
loadflags:      .byte   0x01                    /* LOADED_HIGH */
setup_move_size: .word  0
code32_start:   .long   0x100000
ramdisk_image:  .long   0
ramdisk_size:   .long   0
bootsect_kludge: .long  0
heap_end_ptr:   .word   0
ext_loader_ver: .byte   0
ext_loader_type: .byte  0
cmd_line_ptr:   .long   0
initrd_addr_max: .long  0x7FFFFFFF
kernel_alignment: .long 0x200000
relocatable_kernel: .byte 0
min_alignment:  .byte   0
xloadflags:     .word   0x0001                  /* XLF_KERNEL_64: 64-bit entry at +0x200 */
cmdline_size:   .long   0x7FF
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset: .long   0
payload_length: .long   0
setup_data:     .quad   0
pref_address:   .quad   0x100000
init_size:      .long   INIT_SIZE
handover_offset: .long  0
kernel_info_offset: .long 0
setup_header_end:

start_of_setup:
        /* Build a fresh boot_params at setup_seg:BOOT_PARAMS (the loaded setup
         * image itself overlaps the zero page's tables): the setup header as
         * the loader left it, and the BIOS INT 15h E820 memory map, as Linux's
         * setup does. Loaders that enter at code32_start fill these in. */
        cld
        movw    %ds, %ax
        movw    %ax, %es
        movw    $BOOT_PARAMS, %di
        movw    $2048, %cx
        xorw    %ax, %ax
        rep stosw
        movw    $0x1F1, %si
        movw    $BOOT_PARAMS + 0x1F1, %di
        movw    $setup_header_end - 0x1F1, %cx
        rep movsb
        movw    $BOOT_PARAMS + 0x2D0, %di
        xorl    %ebx, %ebx
e820_next:
        movl    $0xE820, %eax
        movl    $20, %ecx
        movl    $0x534D4150, %edx               /* "SMAP" */
        int     $0x15
        jc      e820_done
        cmpl    $0x534D4150, %eax
        jne     e820_done
        incb    BOOT_PARAMS + 0x1E8
        addw    $20, %di
        testl   %ebx, %ebx
        jz      e820_done
        cmpb    $128, BOOT_PARAMS + 0x1E8
        jb      e820_next
e820_done:
        cli
        movw    %ds, %ax
        movw    %ax, %fs                        /* keeps the real-mode base after PE=1 */
        movzwl  %ax, %eax
        shll    $4, %eax
        leal    BOOT_PARAMS(%eax), %esi         /* ESI = boot_params */
        leal    boot_gdt(%eax), %eax
        movl    %eax, boot_gdt_ptr + 2
        movl    code32_start, %eax
        movl    %eax, jump_target
        inb     $0x92, %al                      /* fast A20 */
        orb     $0x02, %al
        andb    $0xFE, %al
        outb    %al, $0x92
        lgdtl   boot_gdt_ptr
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        movw    $0x18, %ax                      /* __BOOT_DS */
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    $SETUP_MAGIC, %ebp
        ljmpl   *%fs:jump_target

        .balign 8
boot_gdt:
        .quad   0
        .quad   0
        .quad   0x00CF9A000000FFFF              /* 0x10 __BOOT_CS */
        .quad   0x00CF92000000FFFF              /* 0x18 __BOOT_DS */
boot_gdt_ptr:
        .word   boot_gdt_ptr - boot_gdt - 1
        .long   0
jump_target:
        .long   0
        .word   0x10

kernel_version_string:
        .asciz  "guest-kit"

        .balign 512, 0
payload_start:
        .incbin PAYLOAD
payload_end:
        .balign 16, 0
