using System.Diagnostics;
using System.Text;
using CloudHypervisor.Arch.Acpi;
using CloudHypervisor.Arch.Loader;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Cpu;
using CloudHypervisor.Vmm.Devices;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Vmm.Vm;

/// <summary>
/// One guest: its hypervisor VM, RAM, devices and vCPUs, built from a <see cref="VmConfig"/> and
/// booted once. A guest reboot is a fresh <see cref="Vm"/> from the same configuration.
/// </summary>
public sealed class Vm : IVmControl, IDisposable
{
    private const uint IoapicPins = 24;
    private readonly IVm vm;
    private readonly GuestMemory memory;
    private readonly CpuManager cpus;
    private readonly object gate = new();
    private VmStopReason? stopReason;

    private Vm(VmConfig config, IHypervisor hypervisor)
    {
        Config = config;
        var created = Stopwatch.GetTimestamp();
        vm = hypervisor.CreateVm();
        cpus = new CpuManager(OnVcpuStopped);
        try
        {
            vm.SetTssAddress(Layout.KvmTssStart);
            vm.SetIdentityMapAddress(Layout.KvmIdentityMapStart);
            vm.EnableSplitIrqChip(IoapicPins);

            var cpu = config.Cpus;
            var topology = cpu.Topology is { } t ? new Arch.X86.CpuTopology(t.ThreadsPerCore, t.CoresPerDie, t.DiesPerPackage, t.Packages) : (Arch.X86.CpuTopology?)null;
            var apicIds = new uint[cpu.MaxVcpus];
            for (var i = 0; i < apicIds.Length; i++)
            {
                apicIds[i] = topology?.X2ApicId(i) ?? (uint)i;
            }

            if (apicIds.Length > 0 && apicIds[^1] > 254)
            {
                vm.EnableX2ApicApi();
            }

            memory = MemoryManager.Create(config.Memory, vm);
            var below4G = Math.Min(config.Memory.Size, Layout.Ram32BitEnd);
            Devices = DeviceManager.Create(config, this, below4G, config.Memory.Size - below4G, created);

            var kernel = LoadPayload(config.Payload);
            var physBits = CpuIdBuilder.GuestPhysBits(cpu.MaxPhysBits);
            WriteAcpi(config, apicIds, physBits);

            var cpuId = new CpuIdOptions
            {
                Topology = topology,
                BootVcpus = (int)cpu.BootVcpus,
                PhysBits = physBits,
                KvmHyperv = cpu.KvmHyperv,
                Nested = cpu.Nested,
                Amx = cpu.Features.Amx,
                TscKhz = vm.TscKhz,
            };
            cpus.CreateBootVcpus(vm, (int)cpu.BootVcpus, hypervisor.GetSupportedCpuId(), cpuId, kernel,
                new VcpuExitHandler(Devices.IoBus, Devices.MmioBus));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public VmConfig Config { get; }

    public DeviceManager Devices { get; } = null!;

    public static Vm Create(VmConfig config, IHypervisor hypervisor) => new(config, hypervisor);

    public void Boot()
    {
        cpus.Start();
        Log.Info("VM booted");
    }

    public void Pause() => cpus.Pause();

    public void Resume() => cpus.Resume();

    public void InjectNmi() => cpus.InjectNmi();

    /// <summary>Blocks until the guest powers off, reboots or fails, then stops every vCPU.</summary>
    public VmStopReason WaitForStop()
    {
        lock (gate)
        {
            while (stopReason is null)
            {
                Monitor.Wait(gate);
            }
        }

        cpus.Stop();
        return stopReason.Value;
    }

    public void RequestShutdown() => Stop(VmStopReason.Shutdown);

    public void RequestReset() => Stop(VmStopReason.Reset);

    public void Dispose()
    {
        cpus.Dispose();
        Devices?.Dispose();
        memory?.Dispose();
        vm.Dispose();
    }

    private void OnVcpuStopped(VcpuStop reason) => Stop(reason switch
    {
        VcpuStop.GuestShutdown => VmStopReason.Shutdown,
        VcpuStop.GuestReset => VmStopReason.Reset,
        _ => VmStopReason.Error,
    });

    private void Stop(VmStopReason reason)
    {
        lock (gate)
        {
            stopReason ??= reason;
            Monitor.PulseAll(gate);
        }

        cpus.RequestStop();
    }

    private LoadedKernel LoadPayload(PayloadConfig? payload)
    {
        var path = payload?.Kernel ?? payload?.Firmware
            ?? throw new VmmException("Payload configuration is not bootable", new VmmException("No bootitem provided: neither firmware nor kernel"));
        var isKernel = payload!.Kernel is not null;
        var image = GuestFiles.Read(path, isKernel ? "Cannot open kernel file" : "Cannot open firmware file");
        var kernel = KernelLoader.Load(image, memory);

        BootInfo.WriteDescriptorTables(memory);
        if (isKernel)
        {
            BootInfo.WriteCommandLine(memory, Encoding.UTF8.GetBytes(payload.Cmdline ?? string.Empty));
        }

        InitramfsLocation? initramfs = null;
        if (isKernel && payload.Initramfs is { } initramfsPath)
        {
            initramfs = BootInfo.LoadInitramfs(memory, GuestFiles.Read(initramfsPath, "Cannot open initramfs file"));
        }

        var memoryMap = MemoryMapEntry.Build(memory);
        if (kernel.Protocol == BootProtocol.Pvh)
        {
            BootInfo.WritePvhStartInfo(memory, memoryMap, initramfs);
        }
        else
        {
            BootInfo.WriteZeroPage(memory, kernel, memoryMap, initramfs);
        }

        return kernel;
    }

    private void WriteAcpi(VmConfig config, uint[] apicIds, int physBits)
    {
        var ramEnd = memory.Regions[^1].End;
        var platformArea = Layout.PlatformDeviceAreaStart(physBits);
        AcpiTables.Write(memory, new AcpiPlatform
        {
            BootVcpus = (int)config.Cpus.BootVcpus,
            MaxVcpus = (int)config.Cpus.MaxVcpus,
            ApicIds = apicIds,
            SerialPresent = config.Serial.Mode != ConsoleMode.Off,
            PciSegments = 1,
            Mmio32Start = Layout.PciMmio32Start,
            Mmio32End = Layout.PciMmio32Start + Layout.PciMmio32Size - 1,
            Mmio64Start = ramEnd <= Layout.Ram32BitEnd ? Layout.RamAbove4GStart : ramEnd,
            Mmio64End = platformArea - 1,
            GedAddress = platformArea + (1UL << 20) - 0x3000,
        });
    }
}
