/*
 * kvm-portio: baseline cost of a port-I/O VM exit with a raw KVM program.
 *
 * One VM, one 2 MiB memslot, one vCPU placed directly at CPL 3 (so the loop runs
 * natively even where ring 0 is emulated) with IOPL=3 and a TSS I/O bitmap
 * allowing every port. The guest does N `out` to port 0x500, then one to 0x501.
 * Each 0x500 exit is answered at once; the mean time between the first and the
 * last 0x500 exit is printed as JSON.
 *
 * Modes (the CPU state the loop runs in):
 *   long64  64-bit long mode, 4-level paging (one 2 MiB user page), as the iobench
 *           guest's ring-3 loop runs: the like-for-like baseline (default)
 *   prot32  32-bit protected mode, paging off. On a host whose KVM shadows guest
 *           page tables (nested PVM), exits from unpaged guests are ~3x cheaper
 *           than from paged ones, so this is not comparable with a real guest.
 *
 * usage: kvm-portio [iterations [long64|prot32]]   (default 100000 long64)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE   0x200000
#define CODE_ADDR  0x1000
#define TSS_ADDR   0x2000
#define TSS_SIZE   (0x68 + 8192 + 1)
#define STACK_TOP  0x10000
#define BENCH_PORT 0x500
#define DONE_PORT  0x501
#define PML4_ADDR  0x8000
#define PDPT_ADDR  0x9000
#define PD_ADDR    0xA000
#define PTE_USER_RW_PRESENT 0x7
#define PDE_2M_USER_RW      0x87

static void die(const char *what)
{
    fprintf(stderr, "kvm-portio: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
    memset(s, 0, sizeof(*s));
    s->base = 0;
    s->limit = 0xFFFFFFFF;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->dpl = 3;
    s->db = 1;
    s->s = 1;
    s->g = 1;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 0) : 100000;
    const char *mode = argc > 2 ? argv[2] : "long64";
    if (iterations < 2) {
        fprintf(stderr, "kvm-portio: iterations must be >= 2\n");
        return 2;
    }
    int long64 = strcmp(mode, "long64") == 0;
    if (!long64 && strcmp(mode, "prot32") != 0) {
        fprintf(stderr, "kvm-portio: mode must be long64 or prot32, not '%s'\n", mode);
        return 2;
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        die("KVM_GET_API_VERSION");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");

    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    /* Same bytes in both modes (loop uses ECX or RCX). 1: out %al,(%dx); loop 1b; mov $DONE_PORT,%dx; out %al,(%dx); jmp . */
    static const uint8_t code[] = {
        0xEE, 0xE2, 0xFD, 0x66, 0xBA, DONE_PORT & 0xFF, DONE_PORT >> 8, 0xEE, 0xEB, 0xFE,
    };
    memcpy(mem + CODE_ADDR, code, sizeof(code));
    /* 32-bit TSS: I/O map base at 0x66 points just past the header; bitmap all zero. */
    uint16_t iomap = 0x68;
    memcpy(mem + TSS_ADDR + 0x66, &iomap, sizeof(iomap));
    mem[TSS_ADDR + TSS_SIZE - 1] = 0xFF;

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    sregs.cr0 |= 1; /* PE, paging off */
    flat_segment(&sregs.cs, 0x1B, 0xB);
    flat_segment(&sregs.ds, 0x23, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    memset(&sregs.tr, 0, sizeof(sregs.tr));
    sregs.tr.base = TSS_ADDR;
    sregs.tr.limit = TSS_SIZE - 1;
    sregs.tr.selector = 0x28;
    sregs.tr.type = 0xB; /* busy 32-bit TSS */
    sregs.tr.present = 1;
    if (long64) {
        /* Identity-map the first 2 MiB with one user-accessible large page. */
        uint64_t pml4e = PDPT_ADDR | PTE_USER_RW_PRESENT, pdpte = PD_ADDR | PTE_USER_RW_PRESENT, pde = PDE_2M_USER_RW;
        memcpy(mem + PML4_ADDR, &pml4e, sizeof(pml4e));
        memcpy(mem + PDPT_ADDR, &pdpte, sizeof(pdpte));
        memcpy(mem + PD_ADDR, &pde, sizeof(pde));
        sregs.cr3 = PML4_ADDR;
        sregs.cr4 = 0x20;          /* PAE */
        sregs.efer = 0x500;        /* LME | LMA */
        sregs.cr0 = 0x80000001;    /* PG | PE */
        sregs.cs.l = 1;            /* 64-bit code segment */
        sregs.cs.db = 0;
    }
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");

    struct kvm_regs regs = {
        .rip = CODE_ADDR, .rflags = 0x3002, .rcx = (uint64_t)iterations, .rdx = BENCH_PORT, .rsp = STACK_TOP,
    };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");

    long exits = 0;
    uint64_t first = 0, last = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            die("KVM_RUN");
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == BENCH_PORT) {
            last = now_ns();
            if (exits++ == 0)
                first = last;
            continue;
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT)
            break;
        fprintf(stderr, "kvm-portio: unexpected exit reason %u (io port 0x%x)\n", run->exit_reason,
                run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
        return 1;
    }
    if (exits != iterations) {
        fprintf(stderr, "kvm-portio: saw %ld exits, expected %ld\n", exits, iterations);
        return 1;
    }
    double mean = (double)(last - first) / (double)(exits - 1);
    printf("{\"mode\":\"%s\",\"iterations\":%ld,\"total_ns\":%llu,\"mean_exit_ns\":%.1f}\n", mode, iterations,
           (unsigned long long)(last - first), mean);
    return 0;
}
