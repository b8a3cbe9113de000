using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Cpu;

/// <summary>Why a vCPU stopped running for good.</summary>
public enum VcpuStop
{
    Requested,
    GuestShutdown,
    GuestReset,
    Error,
}

/// <summary>One vCPU and the dedicated thread that runs it.</summary>
public sealed class VcpuThread
{
    private readonly IVcpu vcpu;
    private readonly CpuManager manager;
    private readonly ulong[]? hostCpuMask;
    private Thread? thread;
    private nuint pthread;
    private volatile bool started;

    /// <param name="hostCpuMask">A cpu_set_t the thread pins itself to (`--cpus affinity=`), or null to run anywhere.</param>
    public VcpuThread(IVcpu vcpu, CpuManager manager, ulong[]? hostCpuMask = null)
    {
        this.vcpu = vcpu;
        this.manager = manager;
        this.hostCpuMask = hostCpuMask;
    }

    public IVcpu Vcpu => vcpu;

    /// <summary>Set before the manager lets the thread run the vCPU (its lock publishes it to the thread).</summary>
    public VcpuExitHandler Exits { get; set; } = null!;

    public void Start()
    {
        thread = new Thread(Run, 256 * 1024) { Name = $"vcpu{vcpu.Id}", IsBackground = true };
        ThreadSandbox.Start(thread);
    }

    /// <summary>Knocks the vCPU out of KVM_RUN so it notices a pause or stop request.</summary>
    public void Kick()
    {
        vcpu.RequestImmediateExit(true);
        if (started)
        {
            ThreadKick.Kick(pthread);
        }
    }

    public void Join() => thread?.Join();

    private void Run()
    {
        // Pinned before the filter, which has no sched_setaffinity (as upstream's vCPU filter).
        var pinned = PinToHostCpus();
        ThreadSandbox.Enter(SeccompThreadKind.Vcpu);
        pthread = Libc.PthreadSelf();
        started = true;
        var stop = VcpuStop.Requested;
        try
        {
            if (!pinned)
            {
                stop = VcpuStop.Error;
            }
            else if (manager.WaitForStart())
            {
                stop = Loop(Exits);
            }
        }
        catch (Exception e)
        {
            Log.Error($"VCPU generated error: vCPU {vcpu.Id} failed: {string.Join(": ", (e as Sys.Errors.ChainedException)?.Chain() ?? [e.Message])}");
            stop = VcpuStop.Error;
        }

        manager.OnVcpuStopped(vcpu.Id, stop);
    }

    private unsafe bool PinToHostCpus()
    {
        if (hostCpuMask is null)
        {
            return true;
        }

        fixed (ulong* mask = hostCpuMask)
        {
            if (Libc.SchedSetAffinity(0, (nuint)(hostCpuMask.Length * sizeof(ulong)), mask) == 0)
            {
                return true;
            }
        }

        Log.Error($"Failed scheduling the vCPU {vcpu.Id} on the expected CPU set: {Sys.Errors.OsException.Last().Message}");
        return false;
    }

    private VcpuStop Loop(VcpuExitHandler exits)
    {
        while (true)
        {
            if (manager.StopRequested)
            {
                return VcpuStop.Requested;
            }

            if (manager.PauseRequested)
            {
                vcpu.RequestImmediateExit(false);
                manager.WaitWhilePaused();
                continue;
            }

            var exit = vcpu.Run();
            switch (exit.Reason)
            {
                case VmExitReason.Io:
                    exits.HandleIo(exit);
                    break;
                case VmExitReason.Mmio:
                    exits.HandleMmio(exit);
                    break;
                case VmExitReason.Interrupted:
                    vcpu.RequestImmediateExit(false);
                    break;
                case VmExitReason.IoapicEoi:
                    exits.HandleIoapicEoi(exit);
                    break;
                case VmExitReason.Hlt:
                case VmExitReason.Ignored:
                    break;
                case VmExitReason.Reset:
                    return VcpuStop.GuestReset;
                default:
                    // Triple fault, KVM internal error (e.g. emulation failure), entry failure, unknown exit.
                    // Upstream's "VCPU generated error" prefix is kept: log scrapers classify VM deaths by it.
                    Log.Error($"VCPU generated error: vCPU {vcpu.Id} stopped: {vcpu.DescribeLastExit()}; {Registers()}");
                    return VcpuStop.Error;
            }
        }
    }

    private string Registers()
    {
        try
        {
            var r = vcpu.GetRegisters();
            var s = vcpu.GetSpecialRegisters();
            return $"rip=0x{r.Rip:x} rsp=0x{r.Rsp:x} rbp=0x{r.Rbp:x} rflags=0x{r.Rflags:x} " +
                $"rax=0x{r.Rax:x} rbx=0x{r.Rbx:x} rcx=0x{r.Rcx:x} rdx=0x{r.Rdx:x} rsi=0x{r.Rsi:x} rdi=0x{r.Rdi:x} " +
                $"r8=0x{r.R8:x} r9=0x{r.R9:x} r10=0x{r.R10:x} r11=0x{r.R11:x} r12=0x{r.R12:x} r13=0x{r.R13:x} r14=0x{r.R14:x} r15=0x{r.R15:x} " +
                $"cr0=0x{s.Cr0:x} cr2=0x{s.Cr2:x} cr3=0x{s.Cr3:x} cr4=0x{s.Cr4:x} efer=0x{s.Efer:x} cs=0x{s.Cs.Selector:x} ss=0x{s.Ss.Selector:x}";
        }
        catch (HypervisorException e)
        {
            return $"registers unavailable: {e.Message}";
        }
    }
}
