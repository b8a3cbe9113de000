using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;
using CloudHypervisor.Sys.Seccomp;
using static CloudHypervisor.Sys.Seccomp.SyscallRule;
using static CloudHypervisor.Vmm.Seccomp.Syscall;

namespace CloudHypervisor.Vmm.Seccomp;

/// <summary>
/// The syscalls each kind of VMM thread may make once its filter is installed, with upstream's ioctl argument
/// filters (request number, low 32 bits). Hot syscalls come first: the filter tests them in order.
///
/// Every list starts with <see cref="Runtime"/>: the .NET runtime makes syscalls on any thread behind the code's
/// back (GC heap commits and decommits, GC suspension signals, locks, sleeps, thread exit).
/// </summary>
internal static class SeccompRules
{
    // Terminal and tty ioctls (include/uapi/asm-generic/ioctls.h).
    private const ulong Tcgets = 0x5401, Tcsets = 0x5402, Tcsetsw = 0x5403, Tcsetsf = 0x5404, TiocGWinSz = 0x5413, FioNbio = 0x5421, FioClex = 0x5451;

    private const ulong PrSetName = 15, PrGetName = 16, PrSetSeccomp = 22, PrSetNoNewPrivs = 38;

    /// <summary>What the runtime needs on every thread. tgkill and kill only toward this process.</summary>
    public static IEnumerable<SyscallRule> Runtime(int pid) =>
    [
        Always(Futex),
        Always(Write),
        Always(Mmap),
        Always(Munmap),
        Always(Mprotect),
        Always(Madvise),
        Always(Mremap),
        Always(Brk),
        Always(SchedYield),
        Always(Membarrier),
        Always(RtSigprocmask),
        Always(RtSigreturn),
        Always(Sigaltstack),
        Always(Gettid),
        Always(Getpid),
        WhenArg(Tgkill, 0, (ulong)pid),
        WhenArg(Kill, 0, (ulong)pid),
        Always(SchedGetaffinity),
        Always(ClockGettime),
        Always(Gettimeofday),
        Always(ClockNanosleep),
        Always(Nanosleep),
        Always(RestartSyscall),
        Always(Getrandom),
        Always(Exit),
        Always(ExitGroup),
    ];

    /// <summary>
    /// Creating a thread, and what the new thread does under its creator's filter before installing its own
    /// (glibc's start-up, naming itself, loading its filter).
    /// </summary>
    public static IEnumerable<SyscallRule> ThreadCreation() =>
    [
        Always(Clone3),
        Always(Clone),
        Always(SetRobustList),
        Always(Rseq),
        WhenArg(Prctl, 0, PrSetName, PrGetName, PrSetNoNewPrivs, PrSetSeccomp),
    ];

    /// <summary>
    /// Thread-pool work items: a SIGWINCH handler resizing the virtio console, the watchdog's expiry check.
    /// Pool threads are created by the signal-handling and watchdog threads and run either kind's work.
    /// </summary>
    public static IEnumerable<SyscallRule> ThreadPoolWork() =>
    [
        Always(Read),
        WhenArg(Ioctl, 1, TiocGWinSz),
        // The pool itself: its first worker reads /sys/devices/system/cpu/online, its gate thread samples the
        // process's CPU time.
        Always(Openat),
        Always(Close),
        Always(Getrusage),
    ];

    public static IEnumerable<SyscallRule> Vcpu(int pid) =>
    [
        WhenArg(Ioctl, 1,
            KvmIoctls.Run, KvmIoctls.IrqLine, KvmIoctls.SignalMsi, KvmIoctls.SetGsiRouting, KvmIoctls.IrqFd,
            KvmIoctls.IoEventFd, KvmIoctls.GetRegs, KvmIoctls.SetRegs, KvmIoctls.GetSregs, KvmIoctls.SetSregs,
            KvmIoctls.GetMsrs, KvmIoctls.SetMsrs, KvmIoctls.GetFpu, KvmIoctls.SetFpu, KvmIoctls.GetLapic,
            KvmIoctls.SetLapic, KvmIoctls.GetMpState, KvmIoctls.SetMpState, KvmIoctls.Nmi, Libc.TunSetOffload,
            TiocGWinSz),
        .. Runtime(pid),
        // Port and MMIO handlers: serial/debug output to files, ttys and the serial socket; virtio-pci
        // activation and reset build and tear down the device's eventfds and epoll set.
        Always(Read),
        Always(Writev),
        Always(Sendto),
        Always(Sendmsg),
        Always(Eventfd2),
        Always(EpollCreate1),
        Always(EpollCtl),
        Always(Close),
        Always(Fsync),
        Always(TimerfdCreate),
        Always(TimerfdSettime),
    ];

    public static IEnumerable<SyscallRule> HttpApi(int pid) =>
    [
        Always(EpollWait),
        Always(EpollPwait),
        Always(Accept4),
        Always(Read),
        Always(Recvfrom),
        Always(Recvmsg),
        Always(Sendto),
        Always(Sendmsg),
        Always(Writev),
        Always(EpollCtl),
        Always(Close),
        Always(Shutdown),
        Always(Fcntl),
        WhenArg(Ioctl, 1, FioNbio, FioClex),
        .. Runtime(pid),
    ];

    public static IEnumerable<SyscallRule> EventMonitor(int pid) =>
    [
        .. Runtime(pid),
        Always(Read),
        Always(Pwrite64),
        Always(Lseek),
        Always(Fstat),
        Always(Fsync),
    ];

    /// <summary>The input watchers (serial-manager, console-input): ttys, ptys, the serial socket and its clients.</summary>
    public static IEnumerable<SyscallRule> SerialManager(int pid) =>
    [
        Always(EpollWait),
        Always(EpollPwait),
        Always(Read),
        .. Runtime(pid),
        Always(EpollCtl),
        Always(Accept4),
        Always(Accept),
        Always(Recvfrom),
        Always(Recvmsg),
        Always(Sendto),
        Always(Sendmsg),
        Always(Setsockopt),
        Always(Getsockopt),
        Always(Shutdown),
        Always(Poll),
        Always(Ppoll),
        Always(Fcntl),
        Always(Close),
        WhenArg(Ioctl, 1, KvmIoctls.IrqLine, KvmIoctls.SignalMsi, TiocGWinSz, FioNbio, FioClex),
    ];

    public static IEnumerable<SyscallRule> VirtioBlock(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Preadv),
        Always(Pwritev),
        Always(Pread64),
        Always(Pwrite64),
        Always(Fsync),
        Always(Fdatasync),
        Always(Fallocate),
        Always(Lseek),
        Always(Fstat),
        .. Runtime(pid),
        Always(TimerfdSettime),
    ];

    /// <summary>Queue pairs (rate limiters park on a timer) and the control queue (offloads reprogram every TAP queue).</summary>
    public static IEnumerable<SyscallRule> VirtioNet(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Readv),
        Always(Writev),
        WhenArg(Ioctl, 1, Libc.TunSetOffload),
        .. Runtime(pid),
        Always(TimerfdSettime),
    ];

    /// <summary>Inflated and reported pages go back to the host (madvise is in <see cref="Runtime"/>; punching shared memory).</summary>
    public static IEnumerable<SyscallRule> VirtioBalloon(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Fallocate),
        .. Runtime(pid),
    ];

    /// <summary>The hybrid backend: host clients accepted and read on the listener, guest connections to `socket_PORT`.</summary>
    public static IEnumerable<SyscallRule> VirtioVsock(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Readv),
        Always(Recvfrom),
        Always(Sendto),
        Always(Sendmsg),
        Always(EpollCtl),
        Always(Accept4),
        Always(Socket),
        Always(Connect),
        Always(Shutdown),
        Always(Close),
        .. Runtime(pid),
    ];

    public static IEnumerable<SyscallRule> VirtioConsole(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        WhenArg(Ioctl, 1, TiocGWinSz),
        Always(Pwrite64),
        Always(Lseek),
        .. Runtime(pid),
    ];

    public static IEnumerable<SyscallRule> VirtioRng(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Openat),
        Always(Close),
        .. Runtime(pid),
    ];

    public static IEnumerable<SyscallRule> VirtioPmem(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        Always(Fsync),
        Always(Fdatasync),
        Always(Msync),
        .. Runtime(pid),
    ];

    /// <summary>The watchdog's expiry timer is a runtime timer: its thread and the pool threads it wakes come from here.</summary>
    public static IEnumerable<SyscallRule> VirtioWatchdog(int pid) =>
    [
        Always(EpollWait),
        Always(Read),
        .. Runtime(pid),
        .. ThreadCreation(),
        .. ThreadPoolWork(),
    ];

    /// <summary>
    /// The runtime's signal thread, which starts a thread per SIGTERM/SIGINT and queues SIGWINCH to the thread pool;
    /// the handlers post to the VMM thread.
    /// </summary>
    public static IEnumerable<SyscallRule> SignalHandler(int pid) =>
    [
        Always(Read),
        .. Runtime(pid),
        .. ThreadCreation(),
        .. ThreadPoolWork(),
        // Setting up: the runtime's terminal state (restored on SIGTERM, SIGCONT, SIGCHLD), its wake-up pipe and
        // /dev/urandom, which the runtime opens once for hash seeds on whichever thread first needs one.
        Always(RtSigaction),
        Always(Pipe2),
        Always(Openat),
        Always(Close),
        WhenArg(Ioctl, 1, Tcgets, Tcsets, Tcsetsw, Tcsetsf, TiocGWinSz),
    ];

    /// <summary>What the VMM thread (and main) does itself; its filter is this plus every other kind's (see <see cref="SeccompFilters"/>).</summary>
    public static IEnumerable<SyscallRule> VmmOwn(int pid) =>
    [
        WhenArg(Ioctl, 1,
            KvmIoctls.Run, KvmIoctls.GetApiVersion, KvmIoctls.CreateVm, KvmIoctls.CheckExtension, KvmIoctls.GetVcpuMmapSize,
            KvmIoctls.GetSupportedCpuid, KvmIoctls.CreateVcpu, KvmIoctls.SetUserMemoryRegion, KvmIoctls.SetTssAddr,
            KvmIoctls.SetIdentityMapAddr, KvmIoctls.IrqLine, KvmIoctls.SetGsiRouting, KvmIoctls.IrqFd, KvmIoctls.IoEventFd,
            KvmIoctls.GetRegs, KvmIoctls.SetRegs, KvmIoctls.GetSregs, KvmIoctls.SetSregs, KvmIoctls.GetMsrs,
            KvmIoctls.SetMsrs, KvmIoctls.GetFpu, KvmIoctls.SetFpu, KvmIoctls.GetLapic, KvmIoctls.SetLapic,
            KvmIoctls.SetCpuid2, KvmIoctls.GetMpState, KvmIoctls.SetMpState, KvmIoctls.Nmi, KvmIoctls.EnableCap,
            KvmIoctls.GetTscKhz, KvmIoctls.SignalMsi,
            Libc.TunSetIff, Libc.TunGetIff, Libc.TunSetOffload, Libc.TunSetVnetHdrSz,
            Libc.SiocGIfFlags, Libc.SiocSIfFlags, Libc.SiocSIfAddr, Libc.SiocSIfNetmask, Libc.SiocSIfMtu,
            Libc.SiocGIfMtu, Libc.SiocSIfHwAddr, Libc.SiocGIfHwAddr,
            Tcgets, Tcsets, Tcsetsw, Tcsetsf, TiocGWinSz, Libc.TiocSPtLck, Libc.TiocGPtPeer, FioNbio, FioClex),
        .. Runtime(pid),
        .. ThreadCreation(),
        Always(Read), Always(Readv), Always(Writev), Always(Pread64), Always(Pwrite64), Always(Lseek),
        Always(Open), Always(Openat), Always(Close), Always(Dup), Always(Fcntl), Always(Flock),
        Always(Stat), Always(Fstat), Always(Lstat), Always(Newfstatat), Always(Statx), Always(Statfs), Always(Fstatfs),
        Always(Access), Always(Readlink), Always(Readlinkat), Always(Getcwd), Always(Getdents64),
        Always(Unlink), Always(Unlinkat), Always(Ftruncate), Always(Fallocate), Always(Fsync), Always(Fdatasync),
        Always(MemfdCreate), Always(Mbind), Always(GetMempolicy), Always(Msync),
        Always(Eventfd2), Always(EpollCreate1), Always(EpollCtl), Always(EpollWait), Always(EpollPwait), Always(Pipe2),
        Always(Socket), Always(Socketpair), Always(Bind), Always(Listen), Always(Connect), Always(Accept4),
        Always(Sendto), Always(Sendmsg), Always(Recvfrom), Always(Recvmsg), Always(Setsockopt), Always(Getsockopt),
        Always(Getsockname), Always(Getpeername), Always(Shutdown), Always(Poll), Always(Ppoll),
        Always(RtSigaction), Always(SchedSetaffinity), Always(Prlimit64), Always(Uname), Always(Sysinfo),
        Always(Getuid), Always(Geteuid), Always(Getgid), Always(Getegid), Always(Umask), Always(Wait4),
        Always(TimerfdCreate), Always(TimerfdSettime),
        // Landlock (--landlock): the VMM thread restricts itself at vm.create, main and the service threads before they serve.
        Always(LandlockCreateRuleset), Always(LandlockAddRule), Always(LandlockRestrictSelf),
    ];
}
