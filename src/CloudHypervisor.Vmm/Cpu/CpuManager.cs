using CloudHypervisor.Arch.Loader;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Vmm.Cpu;

/// <summary>Creates the boot vCPUs, runs each on its own thread, and pauses, resumes and stops them together.</summary>
/// <remarks>
/// The vCPU threads start as soon as their vCPUs exist, early in the VM's construction, and wait for
/// <see cref="Start"/>: each thread's own set-up (its runtime attachment, pinning, seccomp filter) then runs on
/// another core while the VMM thread builds the rest of the guest, instead of between the boot and the first
/// guest instruction.
/// </remarks>
public sealed class CpuManager : IDisposable
{
    private readonly List<VcpuThread> vcpus = [];
    private readonly object gate = new();
    private readonly Action<VcpuStop> onStopped;
    private volatile bool stopRequested;
    private volatile bool pauseRequested;
    private bool released;
    private int pausedCount;
    private int runningCount;

    public CpuManager(Action<VcpuStop> onStopped)
    {
        this.onStopped = onStopped;
    }

    internal bool StopRequested => stopRequested;

    internal bool PauseRequested => pauseRequested;

    public int Count => vcpus.Count;

    /// <summary>Creates the boot vCPUs and starts their threads, which wait for <see cref="Start"/>.</summary>
    public void CreateBootVcpus(IVm vm, int count, List<CpuAffinity>? affinity = null)
    {
        for (var i = 0; i < count; i++)
        {
            var thread = new VcpuThread(vm.CreateVcpu(i), this, HostCpuMask(affinity, i));
            vcpus.Add(thread);
            lock (gate)
            {
                runningCount++;
            }

            thread.Start();
        }
    }

    /// <summary>Gives the boot vCPUs their CPUID, their boot registers and their exit handler, before <see cref="Start"/>.</summary>
    public void ConfigureBootVcpus(CpuIdEntry[] supportedCpuId, CpuIdOptions cpuId, LoadedKernel kernel, VcpuExitHandler exits)
    {
        foreach (var thread in vcpus)
        {
            var vcpu = thread.Vcpu;
            vcpu.SetCpuId(CpuIdBuilder.Build(supportedCpuId, cpuId, vcpu.Id));
            VcpuSetup.Configure(vcpu, kernel);
            thread.Exits = exits;
        }
    }

    /// <summary>The cpu_set_t (1024 bits, as glibc's) for vCPU <paramref name="id"/>, or null when it is not pinned.</summary>
    internal static ulong[]? HostCpuMask(List<CpuAffinity>? affinity, int id)
    {
        var entry = affinity?.Find(a => a.Vcpu == (uint)id);
        if (entry is null)
        {
            return null;
        }

        var mask = new ulong[1024 / 64];
        foreach (var cpu in entry.HostCpus)
        {
            if (cpu < 1024)
            {
                mask[cpu / 64] |= 1UL << (int)(cpu % 64);
            }
        }

        return mask;
    }

    /// <summary>Lets the vCPU threads run their vCPUs.</summary>
    public void Start()
    {
        lock (gate)
        {
            released = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Stops every vCPU and returns once each has acknowledged.</summary>
    public void Pause()
    {
        lock (gate)
        {
            pauseRequested = true;
        }

        foreach (var vcpu in vcpus)
        {
            vcpu.Kick();
        }

        lock (gate)
        {
            while (pausedCount < runningCount && !stopRequested)
            {
                Monitor.Wait(gate);
            }
        }
    }

    public void Resume()
    {
        lock (gate)
        {
            pauseRequested = false;
            Monitor.PulseAll(gate);
        }
    }

    public void InjectNmi()
    {
        foreach (var vcpu in vcpus)
        {
            vcpu.Vcpu.InjectNmi();
        }
    }

    /// <summary>Asks every vCPU to stop without waiting; safe from a vCPU thread (a device handling a power event).</summary>
    public void RequestStop()
    {
        lock (gate)
        {
            stopRequested = true;
            Monitor.PulseAll(gate);
        }

        foreach (var vcpu in vcpus)
        {
            vcpu.Kick();
        }
    }

    /// <summary>Stops and joins every vCPU thread (not from a vCPU thread).</summary>
    public void Stop()
    {
        lock (gate)
        {
            stopRequested = true;
            pauseRequested = false;
            Monitor.PulseAll(gate);
        }

        foreach (var vcpu in vcpus)
        {
            vcpu.Kick();
        }

        foreach (var vcpu in vcpus)
        {
            if (Thread.CurrentThread.Name != $"vcpu{vcpu.Vcpu.Id}")
            {
                vcpu.Join();
            }
        }
    }

    public void Dispose()
    {
        Stop();
        foreach (var vcpu in vcpus)
        {
            vcpu.Vcpu.Dispose();
        }

        vcpus.Clear();
    }

    /// <returns>false when the VM is stopped (or never booted) instead.</returns>
    internal bool WaitForStart()
    {
        lock (gate)
        {
            while (!released && !stopRequested)
            {
                Monitor.Wait(gate);
            }

            return !stopRequested;
        }
    }

    internal void WaitWhilePaused()
    {
        lock (gate)
        {
            pausedCount++;
            Monitor.PulseAll(gate);
            while (pauseRequested && !stopRequested)
            {
                Monitor.Wait(gate);
            }

            pausedCount--;
        }
    }

    internal void OnVcpuStopped(int id, VcpuStop reason)
    {
        lock (gate)
        {
            runningCount--;
            Monitor.PulseAll(gate);
        }

        if (reason != VcpuStop.Requested)
        {
            onStopped(reason);
        }
    }
}
