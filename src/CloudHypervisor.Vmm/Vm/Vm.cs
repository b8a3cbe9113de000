using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using CloudHypervisor.Arch.Acpi;
using CloudHypervisor.Arch.Loader;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.Smbios;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices;
using CloudHypervisor.Devices.Acpi;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Pvpanic;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Cpu;
using CloudHypervisor.Vmm.Devices;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Vmm.Vm;

/// <summary>
/// One guest: its hypervisor VM, RAM, devices and vCPUs, built from a <see cref="VmConfig"/> and
/// booted once. A guest reboot is a fresh <see cref="Vm"/> from the same configuration. The
/// lifecycle methods are called by the VMM thread only; guest power events arrive through the
/// stop callback, at most once.
/// </summary>
public sealed class Vm : IVmControl, IDisposable
{
    private const uint IoapicPins = 24;
    private readonly IVm vm;
    private readonly GuestMemory memory;
    private readonly CpuManager cpus;
    private readonly uint[] apicIds = [];
    private readonly Action<Vm, VmStopReason> onStopped;
    private int stopped;

    private Vm(VmConfig config, IHypervisor hypervisor, Action<Vm, VmStopReason> onStopped)
    {
        Config = config;
        this.onStopped = onStopped;
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
            apicIds = new uint[cpu.MaxVcpus];
            for (var i = 0; i < apicIds.Length; i++)
            {
                apicIds[i] = topology?.X2ApicId(i) ?? (uint)i;
            }

            if (apicIds.Length > 0 && apicIds[^1] > 254)
            {
                vm.EnableX2ApicApi();
            }

            cpus.CreateBootVcpus(vm, (int)cpu.BootVcpus, cpu.Affinity);
            var slots = new MemorySlots();
            memory = MemoryManager.Create(config.Memory, vm, slots);
            var ramEnd = memory.Regions[^1].End;
            var below4G = Math.Min(ramEnd, Layout.Ram32BitEnd);
            var physBits = CpuIdBuilder.GuestPhysBits(cpu.MaxPhysBits);
            var gedAddress = GedAddress(physBits);
            var pciHotplugAddress = PciHotplugAddress(physBits);
            Devices = DeviceManager.Create(
                config, this, vm, memory, slots, below4G, ramEnd > Layout.RamAbove4GStart ? ramEnd - Layout.RamAbove4GStart : 0, gedAddress, pciHotplugAddress, created);

            var kernel = LoadPayload(config.Payload);
            WriteAcpi(config, apicIds, gedAddress, pciHotplugAddress);
            WriteLegacyPlatformTables(config);

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
            cpus.ConfigureBootVcpus(hypervisor.GetSupportedCpuId(), cpuId, kernel, new VcpuExitHandler(Devices.IoBus, Devices.MmioBus, Devices.Ioapic));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public VmConfig Config { get; }

    public DeviceManager Devices { get; } = null!;

    public VmState State { get; private set; } = VmState.Created;

    /// <summary>Builds the guest; <paramref name="onStopped"/> hears, from any thread, that the guest powered off, reset or failed.</summary>
    public static Vm Create(VmConfig config, IHypervisor hypervisor, Action<Vm, VmStopReason> onStopped) =>
        new(config, hypervisor, onStopped);

    public void Boot()
    {
        VmStateMachine.Check(State, VmState.Running);
        cpus.Start();
        State = VmState.Running;
        Log.Info("VM booted");
    }

    /// <summary>Stops every vCPU and returns once each has acknowledged.</summary>
    public void Pause()
    {
        VmStateMachine.Check(State, VmState.Paused);
        cpus.Pause();
        State = VmState.Paused;
    }

    public void Resume()
    {
        VmStateMachine.Check(State, VmState.Running);
        cpus.Resume();
        State = VmState.Running;
    }

    /// <summary>Stops and joins every vCPU; the VM is then only good for disposal.</summary>
    public void Shutdown()
    {
        VmStateMachine.Check(State, VmState.Shutdown);
        Interlocked.Exchange(ref stopped, 1);
        cpus.Stop();
        State = VmState.Shutdown;
    }

    /// <summary>
    /// Sends an NMI to every boot vCPU as an MSI with NMI delivery mode, which the in-kernel LAPIC
    /// takes at any time; a vCPU ioctl would wait for a halted vCPU to leave KVM_RUN.
    /// </summary>
    public void InjectNmi()
    {
        const ulong msiBase = 0xFEE0_0000;
        const uint nmiDeliveryMode = 4 << 8;
        for (var i = 0; i < (int)Config.Cpus.BootVcpus; i++)
        {
            var id = apicIds[i];
            var address = msiBase | ((ulong)(id & 0xFF) << 12) | ((ulong)(id & 0xFFFF_FF00) << 32);
            vm.SignalMsi(new MsiMessage(address, nmiDeliveryMode));
        }
    }

    /// <summary>Presses the ACPI power button: the guest's GED handler sees the event and, normally, powers off.</summary>
    public void PressPowerButton() => Devices.Ged.Notify(AcpiNotification.PowerButtonChanged);

    /// <summary>
    /// The devices upstream lists in <c>vm.info</c>: interrupt controller, serial port, and each virtio
    /// device under its virtio-pci function (<c>_virtio-pci-&lt;id&gt;</c>, with its BDF and BAR). Bus-only devices are not listed.
    /// </summary>
    public Dictionary<string, DeviceNode> DeviceTree()
    {
        var tree = new Dictionary<string, DeviceNode>(StringComparer.Ordinal)
        {
            ["__ioapic"] = new DeviceNode { Id = "__ioapic" },
        };
        if (Devices.Serial is not null)
        {
            tree["__serial"] = new DeviceNode { Id = "__serial" };
        }

        foreach (var segment in Devices.PciSegments)
        {
            AddPciDevices(tree, segment);
        }

        return tree;
    }

    private void AddPciDevices(Dictionary<string, DeviceNode> tree, PciSegment segment)
    {
        for (var slot = 0; slot < PciBus.SlotCount; slot++)
        {
            var device = segment.Bus.DeviceAt(slot);
            if (device is PvpanicDevice pvpanic)
            {
                tree[PvpanicDevice.DefaultId] = new DeviceNode
                {
                    Id = PvpanicDevice.DefaultId,
                    PciBdf = Bdf(segment, slot),
                    Resources = [BarResource(pvpanic.Bar)],
                };
            }

            if (device is not VirtioPciDevice pci)
            {
                continue;
            }

            var id = pci.Device.Id;
            var parent = $"_virtio-pci-{id}";
            tree[id] = new DeviceNode { Id = id, Parent = parent, Resources = DeviceResources(id) };
            tree[parent] = new DeviceNode
            {
                Id = parent,
                Children = [id],
                PciBdf = Bdf(segment, slot),
                Resources = [BarResource(pci.Bar)],
            };
        }
    }

    private static string Bdf(PciSegment segment, int slot) => $"{segment.Id:x4}:00:{slot:x2}.0";

    private static JsonObject BarResource(PciBar bar) => new()
    {
        ["PciBar"] = new JsonObject
        {
            ["index"] = bar.Index,
            ["base"] = bar.Address,
            ["size"] = bar.Size,
            ["type_"] = bar.Region == PciBarRegion.Memory64 ? "Mmio64" : "Mmio32",
            ["prefetchable"] = bar.Prefetchable,
        },
    };

    /// <summary>A virtio-pmem device lists the guest range it maps, as upstream's node does.</summary>
    private List<JsonObject> DeviceResources(string id)
    {
        foreach (var region in Devices.PmemRegions)
        {
            if (region.Id == id)
            {
                return [new JsonObject { ["MmioAddressRange"] = new JsonObject { ["base"] = region.Start, ["size"] = region.Size } }];
            }
        }

        return [];
    }

    public void RequestShutdown() => Stop(VmStopReason.Shutdown);

    public void RequestReset() => Stop(VmStopReason.Reset);

    public void Dispose()
    {
        Interlocked.Exchange(ref stopped, 1);
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
        if (Interlocked.Exchange(ref stopped, 1) == 0)
        {
            cpus.RequestStop();
            onStopped(this, reason);
        }
    }

    /// <summary>Upstream allocates the GED's register top-down in the platform area, after two hotplug controllers.</summary>
    private static ulong GedAddress(int physBits) => Layout.PlatformDeviceAreaStart(physBits) + (1UL << 20) - 0x3000;

    /// <summary>The PCI hotplug controller is the first allocation (top page) of the platform area without memory hotplug.</summary>
    private static ulong PciHotplugAddress(int physBits) => Layout.PlatformDeviceAreaStart(physBits) + (1UL << 20) - 0x1000;

    private LoadedKernel LoadPayload(PayloadConfig? payload)
    {
        var path = payload?.Kernel ?? payload?.Firmware
            ?? throw new VmmException("Payload configuration is not bootable", new VmmException("No bootitem provided: neither firmware nor kernel"));
        var isKernel = payload!.Kernel is not null;
        var image = GuestFiles.Read(path, isKernel ? "Cannot open kernel file" : "Cannot open firmware file");
        var kernel = KernelLoader.Load(image, memory);

        BootInfo.WriteDescriptorTables(memory);
        if (!isKernel && payload.Cmdline is not null)
        {
            Log.Warn("Ignoring cmdline parameter as firmware is provided as the payload");
        }

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

    /// <summary>The EBDA pointer, SMBIOS (DMI) and the MP table, written where firmware would leave them.</summary>
    private void WriteLegacyPlatformTables(VmConfig config)
    {
        memory.WriteValue<ushort>(Layout.EbdaPointer, (ushort)(Layout.EbdaStart >> 4));
        var p = config.Platform;
        var smbiosSize = SmbiosTables.Write(memory, p is null ? null : new SmbiosPlatform
        {
            SystemManufacturer = p.SystemManufacturer,
            SystemProductName = p.SystemProductName,
            SystemVersion = p.SystemVersion,
            SystemSerialNumber = p.SystemSerialNumber,
            SystemUuid = p.SystemUuid,
            SystemSkuNumber = p.SystemSkuNumber,
            SystemFamily = p.SystemFamily,
            ChassisAssetTag = p.ChassisAssetTag,
            OemStrings = p.OemStrings ?? [],
        });
        switch (MpTable.Write(memory, MpTable.AddressAfterSmbios(smbiosSize), apicIds.AsSpan(0, (int)config.Cpus.BootVcpus)))
        {
            case MpTableOutcome.SkippedTooManyCpus:
                Log.Info("Skipping mptable creation due to too many CPUs");
                break;
            case MpTableOutcome.SkippedInsufficientSpace:
                Log.Warn("Skipping mptable creation due to insufficient space");
                break;
        }
    }

    private void WriteAcpi(VmConfig config, uint[] apicIds, ulong gedAddress, ulong pciHotplugAddress)
    {
        var segments = new List<AcpiPciSegment>(Devices.PciSegments.Count);
        foreach (var segment in Devices.PciSegments)
        {
            var node = config.Numa?.Find(n => n.PciSegments?.Contains(segment.Id) == true);
            segments.Add(new AcpiPciSegment(
                segment.Id, segment.Mmio32.Start, segment.Mmio32.End, segment.Mmio64.Start, segment.Mmio64.End, node?.GuestNumaId ?? 0));
        }

        AcpiTables.Write(memory, new AcpiPlatform
        {
            BootVcpus = (int)config.Cpus.BootVcpus,
            MaxVcpus = (int)config.Cpus.MaxVcpus,
            ApicIds = apicIds,
            SerialPresent = config.Serial.Mode != ConsoleMode.Off,
            PciSegments = segments,
            GedAddress = gedAddress,
            PciHotplugAddress = pciHotplugAddress,
            NumaNodes = GuestNumaNodes.Build(config.Numa, memory, cpu => cpu < apicIds.Length ? apicIds[cpu] : (uint)cpu),
        });
    }
}
