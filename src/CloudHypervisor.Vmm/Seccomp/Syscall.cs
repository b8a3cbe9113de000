namespace CloudHypervisor.Vmm.Seccomp;

/// <summary>x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl) the filters name.</summary>
internal static class Syscall
{
    public const int Read = 0, Write = 1, Open = 2, Close = 3, Stat = 4, Fstat = 5, Lstat = 6, Poll = 7, Lseek = 8,
        Mmap = 9, Mprotect = 10, Munmap = 11, Brk = 12, RtSigaction = 13, RtSigprocmask = 14, RtSigreturn = 15,
        Ioctl = 16, Pread64 = 17, Pwrite64 = 18, Readv = 19, Writev = 20, Access = 21, SchedYield = 24, Mremap = 25,
        Msync = 26, Madvise = 28, Dup = 32, Nanosleep = 35, Getpid = 39, Socket = 41, Connect = 42, Accept = 43,
        Sendto = 44, Recvfrom = 45, Sendmsg = 46, Recvmsg = 47, Shutdown = 48, Bind = 49, Listen = 50,
        Getsockname = 51, Getpeername = 52, Socketpair = 53, Setsockopt = 54, Getsockopt = 55, Clone = 56, Exit = 60,
        Wait4 = 61, Kill = 62, Uname = 63, Fcntl = 72, Flock = 73, Fsync = 74, Fdatasync = 75, Ftruncate = 77,
        Getcwd = 79, Unlink = 87, Readlink = 89, Umask = 95, Gettimeofday = 96, Getrusage = 98, Sysinfo = 99,
        Getuid = 102, Getgid = 104, Geteuid = 107, Getegid = 108, Sigaltstack = 131, Statfs = 137, Fstatfs = 138,
        Prctl = 157, Gettid = 186, Futex = 202, SchedSetaffinity = 203, SchedGetaffinity = 204, Getdents64 = 217,
        RestartSyscall = 219, ClockGettime = 228, ClockNanosleep = 230, ExitGroup = 231, EpollWait = 232,
        EpollCtl = 233, Tgkill = 234, Mbind = 237, GetMempolicy = 239, Openat = 257, Newfstatat = 262,
        Unlinkat = 263, Readlinkat = 267, Ppoll = 271, SetRobustList = 273, EpollPwait = 281, Fallocate = 285,
        TimerfdCreate = 283, TimerfdSettime = 286, TimerfdGettime = 287, Accept4 = 288, Eventfd2 = 290, EpollCreate1 = 291, Pipe2 = 293, Preadv = 295, Pwritev = 296,
        Prlimit64 = 302, Getrandom = 318, MemfdCreate = 319, Membarrier = 324, Preadv2 = 327, Pwritev2 = 328,
        Statx = 332, Rseq = 334, Clone3 = 435, EpollPwait2 = 441,
        LandlockCreateRuleset = 444, LandlockAddRule = 445, LandlockRestrictSelf = 446;
}
