using static CloudHypervisor.Sys.Interop.Libc.IoctlCode;

namespace CloudHypervisor.Sys.Kvm;

/// <summary>KVM ioctl request numbers (linux/kvm.h, x86-64).</summary>
public static unsafe class KvmIoctls
{
    private const uint KvmIo = 0xAE;

    public static readonly ulong GetApiVersion = Io(KvmIo, 0x00);
    public static readonly ulong CreateVm = Io(KvmIo, 0x01);
    public static readonly ulong CheckExtension = Io(KvmIo, 0x03);
    public static readonly ulong GetVcpuMmapSize = Io(KvmIo, 0x04);
    public static readonly ulong GetSupportedCpuid = Iowr(KvmIo, 0x05, (uint)sizeof(KvmCpuid2Header));
    public static readonly ulong CreateVcpu = Io(KvmIo, 0x41);
    public static readonly ulong SetUserMemoryRegion = Iow(KvmIo, 0x46, (uint)sizeof(KvmUserspaceMemoryRegion));
    public static readonly ulong SetTssAddr = Io(KvmIo, 0x47);
    public static readonly ulong SetIdentityMapAddr = Iow(KvmIo, 0x48, sizeof(ulong));
    public static readonly ulong IrqLine = Iow(KvmIo, 0x61, 8);
    public static readonly ulong SetGsiRouting = Iow(KvmIo, 0x6A, (uint)sizeof(KvmIrqRoutingHeader));
    public static readonly ulong IrqFd = Iow(KvmIo, 0x76, (uint)sizeof(KvmIrqFd));
    public static readonly ulong IoEventFd = Iow(KvmIo, 0x79, (uint)sizeof(KvmIoEventFd));
    public static readonly ulong Run = Io(KvmIo, 0x80);
    public static readonly ulong GetRegs = Ior(KvmIo, 0x81, (uint)sizeof(KvmRegs));
    public static readonly ulong SetRegs = Iow(KvmIo, 0x82, (uint)sizeof(KvmRegs));
    public static readonly ulong GetSregs = Ior(KvmIo, 0x83, (uint)sizeof(KvmSregs));
    public static readonly ulong SetSregs = Iow(KvmIo, 0x84, (uint)sizeof(KvmSregs));
    public static readonly ulong GetMsrs = Iowr(KvmIo, 0x88, 8);
    public static readonly ulong SetMsrs = Iow(KvmIo, 0x89, 8);
    public static readonly ulong GetFpu = Ior(KvmIo, 0x8C, (uint)sizeof(KvmFpu));
    public static readonly ulong SetFpu = Iow(KvmIo, 0x8D, (uint)sizeof(KvmFpu));
    public static readonly ulong GetLapic = Ior(KvmIo, 0x8E, (uint)sizeof(KvmLapicState));
    public static readonly ulong SetLapic = Iow(KvmIo, 0x8F, (uint)sizeof(KvmLapicState));
    public static readonly ulong SetCpuid2 = Iow(KvmIo, 0x90, (uint)sizeof(KvmCpuid2Header));
    public static readonly ulong GetMpState = Ior(KvmIo, 0x98, 4);
    public static readonly ulong SetMpState = Iow(KvmIo, 0x99, 4);
    public static readonly ulong Nmi = Io(KvmIo, 0x9A);
    public static readonly ulong EnableCap = Iow(KvmIo, 0xA3, (uint)sizeof(KvmEnableCap));
    public static readonly ulong GetTscKhz = Io(KvmIo, 0xA3);
    public static readonly ulong SignalMsi = Iow(KvmIo, 0xA5, (uint)sizeof(KvmMsi));
}

/// <summary>KVM_CAP_* numbers used by the VMM.</summary>
public static class KvmCap
{
    public const uint Irqchip = 0, UserMemory = 3, SetTssAddr = 4, ExtCpuid = 7, NrVcpus = 9, IrqRouting = 25,
        IrqFd = 32, IoEventFd = 36, SetIdentityMapAddr = 37, GetTscKhz = 61, MaxVcpus = 66, TscDeadlineTimer = 72,
        SignalMsi = 77, SplitIrqchip = 121, HypervSynic = 123, X2ApicApi = 129, ImmediateExit = 136;
}

/// <summary>Flags and types of the interrupt-routing ioctls.</summary>
public static class KvmIrq
{
    public const uint RoutingIrqchip = 1, RoutingMsi = 2;

    /// <summary>KVM_IRQFD flags.</summary>
    public const uint IrqFdDeassign = 1, IrqFdResample = 2;
}

/// <summary>KVM_EXIT_* reasons.</summary>
public static class KvmExit
{
    public const uint Unknown = 0, Exception = 1, Io = 2, Hypercall = 3, Debug = 4, Hlt = 5, Mmio = 6,
        IrqWindowOpen = 7, Shutdown = 8, FailEntry = 9, Intr = 10, Nmi = 16, InternalError = 17,
        SystemEvent = 24, IoapicEoi = 26, Hyperv = 27;

    public const uint SystemEventShutdown = 1, SystemEventReset = 2, SystemEventCrash = 3;
}
