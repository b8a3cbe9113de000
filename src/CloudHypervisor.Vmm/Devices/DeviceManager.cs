using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices;
using CloudHypervisor.Devices.Acpi;
using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Pvpanic;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Console;
using CloudHypervisor.Devices.Virtio.Pmem;
using CloudHypervisor.Devices.Virtio.Watchdog;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Vmm.Events;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>Creates the VM's devices and the port-I/O and MMIO buses they sit on.</summary>
public sealed class DeviceManager : IDisposable
{
    private readonly List<IDisposable> owned;

    /// <summary>The serial port's IOAPIC pin (ISA IRQ 4, as the DSDT's COM1 and the MADT override say).</summary>
    public const int SerialPin = 4;

    /// <summary>The GED's pin: upstream allocates it after the eight PCI INTx lines, which makes it 13.</summary>
    public const int GedPin = 13;

    private DeviceManager(Bus ioBus, Bus mmioBus, GsiRoutingTable gsiRouting, Ioapic ioapic, Serial16550? serial, AcpiGedDevice ged, List<IDisposable> owned)
    {
        Ged = ged;
        this.owned = owned;
        IoBus = ioBus;
        MmioBus = mmioBus;
        GsiRouting = gsiRouting;
        Ioapic = ioapic;
        Serial = serial;
    }

    public Bus IoBus { get; }

    /// <summary>The ACPI Generic Event Device that carries power-button and hotplug notifications.</summary>
    public AcpiGedDevice Ged { get; }

    public Bus MmioBus { get; }

    /// <summary>PCI segment 0: host bridge, 0xCF8/0xCFC and ECAM configuration access, BAR windows.</summary>
    public PciSegment PciSegment { get; private init; } = null!;

    public Serial16550? Serial { get; }

    /// <summary>The VM's GSI routes: IOAPIC pins 0–23, then MSI/MSI-X vectors.</summary>
    public GsiRoutingTable GsiRouting { get; }

    /// <summary>The userspace IOAPIC; vCPU exits for level-triggered EOIs go to it.</summary>
    public Ioapic Ioapic { get; }

    /// <summary>The virtio-pci functions on segment 0, in creation (slot) order.</summary>
    public IReadOnlyList<VirtioPciDevice> VirtioDevices { get; private init; } = [];

    /// <summary>Each virtio-pmem device's guest range and the memory slot that maps it.</summary>
    public IReadOnlyList<PmemRegion> PmemRegions { get; private init; } = [];

    /// <summary>The pvpanic function (<c>--pvpanic</c>), last on segment 0.</summary>
    public PvpanicDevice? Pvpanic { get; private init; }

    public static DeviceManager Create(
        VmConfig config, IVmControl control, IVm vm, GuestMemory memory, MemorySlots slots, ulong ramBelow4G, ulong ramAbove4G, ulong gedAddress, long createdTimestamp)
    {
        RejectUnsupported(config);
        var io = new Bus();
        var mmio = new Bus();
        var owned = new List<IDisposable>();
        try
        {
            var gsiRouting = new GsiRoutingTable(vm);
            var ioapic = new Ioapic(gsiRouting);
            mmio.Insert(ioapic, Layout.IoapicStart, Layout.IoapicSize);
            var ged = new AcpiGedDevice(ioapic.Pin(GedPin));
            mmio.Insert(ged, gedAddress, AcpiGedDevice.Size);
            var pciSegment = CreatePciSegment0(config, io, mmio, ramAbove4G);
            var serial = AddDevices(config, control, ioapic, ramBelow4G, ramAbove4G, createdTimestamp, io, owned);
            var pmemRegions = new List<PmemRegion>();
            var virtio = AddVirtioDevices(config, control, vm, memory, slots, gsiRouting, pciSegment, owned, pmemRegions);
            var pvpanic = config.Pvpanic ? AddPvpanic(pciSegment) : null;
            return new DeviceManager(io, mmio, gsiRouting, ioapic, serial, ged, owned)
            {
                PciSegment = pciSegment, VirtioDevices = virtio, PmemRegions = pmemRegions, Pvpanic = pvpanic,
            };
        }
        catch
        {
            owned.ForEach(d => d.Dispose());
            throw;
        }
    }

    /// <summary>Closes the console files and descriptors the devices write to.</summary>
    public void Dispose()
    {
        foreach (var resource in owned)
        {
            resource.Dispose();
        }

        owned.Clear();
    }

    /// <summary>
    /// Segment 0 over upstream's windows: the 32-bit device window and the 64-bit device area (from the
    /// end of RAM, at least 4 GiB, up to the platform device area); INTx IRQs 5–12 (hence GED's 13).
    /// </summary>
    private static PciSegment CreatePciSegment0(VmConfig config, Bus io, Bus mmio, ulong ramAbove4G)
    {
        var physBits = CpuIdBuilder.GuestPhysBits(config.Cpus.MaxPhysBits);
        var mmio32 = PciMmioWindows.Split(Layout.PciMmio32Start, Layout.PciMmio32Start + Layout.PciMmio32Size, [1], PciMmioWindows.Mmio32Granularity);
        var mmio64 = PciMmioWindows.Split(
            Layout.RamAbove4GStart + ramAbove4G, Layout.PlatformDeviceAreaStart(physBits) - 1, [1], PciMmioWindows.Mmio64Granularity);
        return PciSegment.Create(0, io, mmio, mmio32[0], mmio64[0], [5, 6, 7, 8, 9, 10, 11, 12]);
    }

    /// <summary>
    /// The virtio-pci devices in upstream's creation order, each taking the lowest free slot after the
    /// explicit <c>pci_device_id</c>s are reserved: virtio-console first (00:01.0 by default), disks, nets, rng,
    /// pmem, watchdog. As upstream creates the devices before allocating their BARs, the pmem ranges
    /// are taken from the 64-bit window first.
    /// </summary>
    private static List<VirtioPciDevice> AddVirtioDevices(
        VmConfig config, IVmControl control, IVm vm, GuestMemory memory, MemorySlots slots, GsiRoutingTable gsiRouting, PciSegment segment,
        List<IDisposable> owned, List<PmemRegion> pmemRegions)
    {
        var devices = new List<VirtioPciDevice>();
        foreach (var pmem in config.Pmem ?? [])
        {
            if (pmem.PciDeviceId is { } pmemSlot)
            {
                segment.Bus.ReserveSlot(pmemSlot);
            }
        }

        if (config.Rng.PciDeviceId is { } rngSlot)
        {
            segment.Bus.ReserveSlot(rngSlot);
        }

        foreach (var disk in config.Disks ?? [])
        {
            if (disk.PciDeviceId is { } diskSlot)
            {
                segment.Bus.ReserveSlot(diskSlot);
            }
        }

        foreach (var net in config.Net ?? [])
        {
            if (net.PciDeviceId is { } netSlot)
            {
                segment.Bus.ReserveSlot(netSlot);
            }
        }

        if (config.Console.PciDeviceId is { } consoleSlot && config.Console.Mode != ConsoleMode.Off)
        {
            segment.Bus.ReserveSlot(consoleSlot);
        }

        var pmemDevices = new List<VirtioPmem>();
        foreach (var pmem in config.Pmem ?? [])
        {
            pmemDevices.Add(OpenPmem(pmem, vm, slots, segment, owned, pmemRegions));
        }

        if (config.Console.Mode != ConsoleMode.Off)
        {
            devices.Add(AddVirtioConsole(config.Console, vm, memory, gsiRouting, segment, owned));
        }

        var rateLimitGroups = RateLimiters.Groups(config);
        foreach (var disk in config.Disks ?? [])
        {
            var block = BlockDevices.Open(disk, rateLimitGroups);
            owned.Add(block);
            devices.Add(AddVirtioPciDevice(block, disk.PciDeviceId, vm, memory, gsiRouting, segment, owned, PciBarRegion.Memory32));
        }

        foreach (var net in config.Net ?? [])
        {
            var device = NetDevices.Open(net);
            owned.Add(device);
            devices.Add(AddVirtioPciDevice(device, net.PciDeviceId, vm, memory, gsiRouting, segment, owned));
        }

        var rng = VirtioRng.Open(config.Rng.Id ?? VirtioRng.DefaultId, config.Rng.Src);
        owned.Add(rng);
        devices.Add(AddVirtioPciDevice(rng, config.Rng.PciDeviceId, vm, memory, gsiRouting, segment, owned));

        for (var i = 0; i < pmemDevices.Count; i++)
        {
            devices.Add(AddVirtioPciDevice(pmemDevices[i], config.Pmem![i].PciDeviceId, vm, memory, gsiRouting, segment, owned));
        }

        if (config.Watchdog)
        {
            var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, control.RequestReset);
            owned.Add(watchdog);
            devices.Add(AddVirtioPciDevice(watchdog, null, vm, memory, gsiRouting, segment, owned));
        }

        return devices;
    }

    /// <summary>
    /// Maps a pmem file and makes it guest memory: a 2 MiB-aligned range from the 64-bit window in
    /// its own memory slot (read-only to KVM with <c>discard_writes</c>, so guest writes go nowhere).
    /// </summary>
    private static VirtioPmem OpenPmem(PmemConfig config, IVm vm, MemorySlots slots, PciSegment segment, List<IDisposable> owned, List<PmemRegion> regions)
    {
        PmemBacking backing;
        try
        {
            backing = PmemBacking.Open(config.File, config.Size, config.DiscardWrites);
        }
        catch (VirtioException e)
        {
            throw new VmmException("Error creating devices", e);
        }

        owned.Add(backing);
        if (!segment.Mmio64.TryAllocate(backing.Size, PmemBacking.Alignment, out var start))
        {
            throw new VmmException("Error creating devices", new VmmException("Cannot find a memory range for persistent memory"));
        }

        var slot = slots.Allocate();
        vm.SetUserMemoryRegion(slot, start, backing.Size, backing.Host, readOnly: config.DiscardWrites);
        var id = config.Id ?? throw new VmmException("Error creating devices", new VmmException("virtio-pmem has no id"));
        regions.Add(new PmemRegion(id, start, backing.Size, slot));
        var device = new VirtioPmem(id, backing.TakeFile(), start, backing.Size);
        owned.Add(device);
        return device;
    }

    /// <summary>pvpanic (`__pvpanic`) after every other PCI device, on a 32-bit BAR; guest events go to the event monitor.</summary>
    private static PvpanicDevice AddPvpanic(PciSegment segment)
    {
        var slot = segment.Bus.AllocateSlot();
        var bar = segment.AllocateBar(PciBarRegion.Memory32, PvpanicDevice.BarSize, PvpanicDevice.BarAlignment);
        var pvpanic = new PvpanicDevice(bar, name => EventLog.Emit("guest", "panic", "event", name));
        segment.AddDevice(slot, pvpanic, [pvpanic.Bar]);
        return pvpanic;
    }

    /// <summary>The virtio-console (`__console`) over its `--console` backend, whose input and resizes reach it from now on.</summary>
    private static VirtioPciDevice AddVirtioConsole(
        ConsoleConfig config, IVm vm, GuestMemory memory, GsiRoutingTable gsiRouting, PciSegment segment, List<IDisposable> owned)
    {
        var backend = VirtioConsoleBackend.Open(config);
        owned.Add(backend);
        var console = new VirtioConsole(VirtioConsole.DefaultId, backend.Output, backend.InitialSize);
        owned.Add(console);
        var pci = AddVirtioPciDevice(console, config.PciDeviceId, vm, memory, gsiRouting, segment, owned);

        // Closed before the transport (which closes the device), so no input or resize reaches a closed device.
        owned.Remove(backend);
        owned.Insert(0, backend);
        backend.Start(console);
        return pci;
    }

    /// <summary>
    /// Wraps <paramref name="device"/> in the virtio-pci transport and plugs it in: on a 64-bit BAR, or for
    /// cold-plugged disks (as upstream) a 32-bit BAR aligned to its size.
    /// </summary>
    private static VirtioPciDevice AddVirtioPciDevice(
        IVirtioDevice device, byte? explicitSlot, IVm vm, GuestMemory memory, GsiRoutingTable gsiRouting, PciSegment segment, List<IDisposable> owned,
        PciBarRegion barRegion = PciBarRegion.Memory64)
    {
        var slot = explicitSlot ?? segment.Bus.AllocateSlot();
        var vectors = MsiVectorGroup.Create(vm, gsiRouting, device.QueueMaxSizes.Count + 1);
        owned.Add(vectors);
        var alignment = barRegion == PciBarRegion.Memory32 ? VirtioPciLayout.BarSize : VirtioPciLayout.Bar64Alignment;
        var bar = segment.AllocateBar(barRegion, VirtioPciLayout.BarSize, alignment);
        var pci = new VirtioPciDevice(device, memory, vectors, bar, barRegion);
        owned.Insert(0, pci);
        pci.RegisterNotifiers(
            (fd, address) => vm.RegisterIoEventFd(fd.Fd, address, isPio: false),
            (fd, address) => vm.UnregisterIoEventFd(fd.Fd, address, isPio: false));
        segment.AddDevice(slot, pci, [pci.Bar]);
        return pci;
    }

    private static Serial16550? AddDevices(
        VmConfig config, IVmControl control, IInterruptController interrupts, ulong ramBelow4G, ulong ramAbove4G, long createdTimestamp, Bus io, List<IDisposable> owned)
    {
        IByteSink Open(ConsoleMode mode, string? file, string option)
        {
            var sink = ConsoleOutput.Open(mode, file, option);
            if (sink is IDisposable disposable)
            {
                owned.Add(disposable);
            }

            return sink;
        }

        Serial16550? serial = null;
        if (config.Serial.Mode != ConsoleMode.Off)
        {
            var console = SerialConsole.Open(config.Serial);
            owned.Add(console);
            serial = new Serial16550(console.Output, interrupts.Pin(SerialPin));
            io.Insert(serial, 0x3F8, 8);
            console.StartInput(serial.QueueInput);
        }

        io.Insert(new I8042Device(control), I8042Device.Port, I8042Device.Length);
        io.Insert(new Cmos(ramBelow4G, ramAbove4G, control), Cmos.Port, Cmos.Length);
        io.Insert(new AcpiPowerDevice(control), AcpiPowerDevice.Port, AcpiPowerDevice.Length);
        io.Insert(new PmTimer(), PmTimer.Port, PmTimer.Length);
        io.Insert(new DebugPort(createdTimestamp), DebugPort.Port, 1);
        io.Insert(new FirmwareDebugPort(Open(ConsoleMode.Tty, null, "firmware debug")), FirmwareDebugPort.Port, 1);

        if (config.DebugConsole.Mode != ConsoleMode.Off)
        {
            var sink = Open(config.DebugConsole.Mode, config.DebugConsole.File, "debug-console");
            io.Insert(new DebugConsole(sink), config.DebugConsole.Iobase ?? 0xE9, 1);
        }

        return serial;
    }

    /// <summary>Devices the VMM cannot build yet fail VM creation with a clear error.</summary>
    private static void RejectUnsupported(VmConfig config)
    {
        var unsupported =
            config.Fs is { Count: > 0 } ? "virtio-fs (--fs)" :
            config.Devices is { Count: > 0 } ? "VFIO devices (--device)" :
            config.UserDevices is { Count: > 0 } ? "vfio-user devices (--user-device)" :
            config.Vdpa is { Count: > 0 } ? "vDPA devices (--vdpa)" :
            config.GenericVhostUser is { Count: > 0 } ? "generic vhost-user devices (--generic-vhost-user)" :
            config.Vsock is not null ? "virtio-vsock (--vsock)" :
            config.Balloon is not null ? "virtio-balloon (--balloon)" :
            config.Rtc is not null ? "virtio-rtc (--rtc)" :
            config.Tpm is not null ? "TPM (--tpm)" :
            config.Numa?.Exists(n => n.PciSegments is { Count: > 0 }) == true ? "NUMA PCI segments (--numa pci_segments=)" :
            config.Numa?.Exists(n => n.DeviceId is not null) == true ? "NUMA generic initiators (--numa device_id=)" :
            config.Iommu || config.Rng.Iommu || config.Disks?.Exists(d => d.Iommu) == true || config.Pmem?.Exists(p => p.Iommu) == true ? "virtio-iommu" :
            config.Platform is { NumPciSegments: > 1 } ? "multiple PCI segments" :
            null;
        if (unsupported is not null)
        {
            throw new VmmException("Error creating devices", VmmException.NotSupportedYet(unsupported));
        }
    }
}
