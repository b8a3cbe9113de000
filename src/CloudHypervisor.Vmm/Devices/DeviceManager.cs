using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Arch.X86;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices;
using CloudHypervisor.Devices.Acpi;
using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.Pvpanic;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Balloon;
using CloudHypervisor.Devices.Virtio.Console;
using CloudHypervisor.Devices.Virtio.Pmem;
using CloudHypervisor.Devices.Virtio.Vsock;
using CloudHypervisor.Devices.Virtio.Watchdog;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Vmm.Events;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>Creates the VM's devices and the port-I/O and MMIO buses they sit on.</summary>
public sealed partial class DeviceManager : IDisposable
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

    /// <summary>The PCI segments in id order: segment 0 has the host bridge and 0xCF8/0xCFC; each has its ECAM slice and BAR windows.</summary>
    public IReadOnlyList<PciSegment> PciSegments { get; private init; } = [];

    public Serial16550? Serial { get; }

    /// <summary>The VM's GSI routes: IOAPIC pins 0–23, then MSI/MSI-X vectors.</summary>
    public GsiRoutingTable GsiRouting { get; }

    /// <summary>The userspace IOAPIC; vCPU exits for level-triggered EOIs go to it.</summary>
    public Ioapic Ioapic { get; }

    /// <summary>The virtio-pci functions of every segment, in creation order (hot-plugged ones last).</summary>
    public IReadOnlyList<VirtioPciDevice> VirtioDevices => virtioDevices;

    /// <summary>Each virtio-pmem device's guest range and the memory slot that maps it.</summary>
    public IReadOnlyList<PmemRegion> PmemRegions => pmemRegions;

    /// <summary>The virtio-balloon (<c>--balloon</c>), whose target vm.resize changes.</summary>
    public VirtioBalloon? Balloon { get; private init; }

    /// <summary>The pvpanic function (<c>--pvpanic</c>), last on its segment.</summary>
    public PvpanicDevice? Pvpanic { get; private init; }

    public static DeviceManager Create(
        VmConfig config, IVmControl control, IVm vm, GuestMemory memory, MemorySlots slots, ulong ramBelow4G, ulong ramAbove4G, ulong gedAddress, ulong pciHotplugAddress,
        long createdTimestamp)
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
            var segments = CreatePciSegments(config, io, mmio, ramAbove4G);
            var serial = AddDevices(config, control, ioapic, ramBelow4G, ramAbove4G, createdTimestamp, io, owned);
            var pmemRegions = new List<PmemRegion>();
            var rateLimitGroups = RateLimiters.Groups(config);
            var virtio = AddVirtioDevices(config, control, vm, memory, slots, gsiRouting, segments, owned, pmemRegions, rateLimitGroups);
            var pvpanic = config.Pvpanic ? AddPvpanic(segments[0]) : null;
            var manager = new DeviceManager(io, mmio, gsiRouting, ioapic, serial, ged, owned)
            {
                PciSegments = segments, Pvpanic = pvpanic,
                Balloon = FindDevice<VirtioBalloon>(virtio),
            };
            manager.virtioDevices.AddRange(virtio);
            manager.pmemRegions.AddRange(pmemRegions);
            manager.hotplugContext = new HotplugContext(vm, memory, slots, rateLimitGroups);
            manager.PciHotplug = new PciHotplugController(segments.Length, manager.OnEject);
            mmio.Insert(manager.PciHotplug, pciHotplugAddress, PciHotplugController.Size);
            return manager;
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
    /// The segments over upstream's windows: the 32-bit device window and the 64-bit device area (from the
    /// end of RAM, at least 4 GiB, up to the platform device area), each divided between the segments by
    /// their <c>--pci-segment</c> aperture weights (default 1). Every segment routes its slots to INTx IRQs
    /// 5–12 (hence GED's 13).
    /// </summary>
    private static PciSegment[] CreatePciSegments(VmConfig config, Bus io, Bus mmio, ulong ramAbove4G)
    {
        var count = config.Platform?.NumPciSegments ?? 1;
        var weights32 = new uint[count];
        var weights64 = new uint[count];
        Array.Fill(weights32, 1u);
        Array.Fill(weights64, 1u);
        foreach (var weights in config.PciSegments ?? [])
        {
            weights32[weights.PciSegment] = weights.Mmio32ApertureWeight;
            weights64[weights.PciSegment] = weights.Mmio64ApertureWeight;
        }

        var physBits = CpuIdBuilder.GuestPhysBits(config.Cpus.MaxPhysBits);
        PciMmioAllocator[] mmio32, mmio64;
        try
        {
            mmio32 = PciMmioWindows.Split(Layout.PciMmio32Start, Layout.PciMmio32Start + Layout.PciMmio32Size, weights32, PciMmioWindows.Mmio32Granularity);
            mmio64 = PciMmioWindows.Split(
                Layout.RamAbove4GStart + ramAbove4G, Layout.PlatformDeviceAreaStart(physBits) - 1, weights64, PciMmioWindows.Mmio64Granularity);
        }
        catch (PciException e)
        {
            throw new VmmException("Error creating devices", e);
        }

        var segments = new PciSegment[count];
        for (var id = 0; id < count; id++)
        {
            segments[id] = PciSegment.Create((ushort)id, io, mmio, mmio32[id], mmio64[id], [5, 6, 7, 8, 9, 10, 11, 12]);
        }

        return segments;
    }

    /// <summary>
    /// The virtio-pci devices in upstream's creation order, each taking the lowest free slot after the
    /// explicit <c>pci_device_id</c>s are reserved: virtio-console first (00:01.0 by default), disks, nets, rng,
    /// pmem, vsock, balloon, watchdog. As upstream creates the devices before allocating their BARs, the pmem ranges
    /// are taken from the 64-bit window first.
    /// </summary>
    private static List<VirtioPciDevice> AddVirtioDevices(
        VmConfig config, IVmControl control, IVm vm, GuestMemory memory, MemorySlots slots, GsiRoutingTable gsiRouting, PciSegment[] segments,
        List<IDisposable> owned, List<PmemRegion> pmemRegions, Dictionary<string, RateLimiter> rateLimitGroups)
    {
        void Reserve(ushort segment, byte? slot)
        {
            if (slot is { } explicitSlot)
            {
                segments[segment].Bus.ReserveSlot(explicitSlot);
            }
        }

        foreach (var pmem in config.Pmem ?? [])
        {
            Reserve(pmem.PciSegment, pmem.PciDeviceId);
        }

        Reserve(config.Vsock?.PciSegment ?? 0, config.Vsock?.PciDeviceId);

        Reserve(0, config.Balloon?.PciDeviceId);
        Reserve(config.Rng.PciSegment, config.Rng.PciDeviceId);
        foreach (var disk in config.Disks ?? [])
        {
            Reserve(disk.PciSegment, disk.PciDeviceId);
        }

        foreach (var net in config.Net ?? [])
        {
            Reserve(net.PciSegment, net.PciDeviceId);
        }

        if (config.Console.Mode != ConsoleMode.Off)
        {
            Reserve(config.Console.PciSegment, config.Console.PciDeviceId);
        }

        var devices = new List<VirtioPciDevice>();
        var pmemDevices = new List<VirtioPmem>();
        foreach (var pmem in config.Pmem ?? [])
        {
            pmemDevices.Add(OpenPmem(pmem, vm, slots, segments[pmem.PciSegment], owned, pmemRegions));
        }

        if (config.Console.Mode != ConsoleMode.Off)
        {
            devices.Add(AddVirtioConsole(config.Console, vm, memory, gsiRouting, segments[config.Console.PciSegment], owned));
        }

        foreach (var disk in config.Disks ?? [])
        {
            var block = BlockDevices.Open(disk, rateLimitGroups);
            owned.Add(block);

            // As upstream, cold-plugged disks on segment 0 take a 32-bit BAR.
            var barRegion = disk.PciSegment == 0 ? PciBarRegion.Memory32 : PciBarRegion.Memory64;
            devices.Add(AddVirtioPciDevice(block, disk.PciDeviceId, vm, memory, gsiRouting, segments[disk.PciSegment], owned, barRegion));
        }

        foreach (var net in config.Net ?? [])
        {
            var device = NetDevices.Open(net);
            owned.Add(device);
            devices.Add(AddVirtioPciDevice(device, net.PciDeviceId, vm, memory, gsiRouting, segments[net.PciSegment], owned));
        }

        var rng = VirtioRng.Open(config.Rng.Id ?? VirtioRng.DefaultId, config.Rng.Src);
        owned.Add(rng);
        devices.Add(AddVirtioPciDevice(rng, config.Rng.PciDeviceId, vm, memory, gsiRouting, segments[config.Rng.PciSegment], owned));

        for (var i = 0; i < pmemDevices.Count; i++)
        {
            var pmem = config.Pmem![i];
            devices.Add(AddVirtioPciDevice(pmemDevices[i], pmem.PciDeviceId, vm, memory, gsiRouting, segments[pmem.PciSegment], owned));
        }

        if (config.Vsock is { } vsockConfig)
        {
            var vsock = OpenVsock(vsockConfig);
            owned.Add(vsock);
            devices.Add(AddVirtioPciDevice(vsock, vsockConfig.PciDeviceId, vm, memory, gsiRouting, segments[vsockConfig.PciSegment], owned));
        }

        if (config.Balloon is { } balloonConfig)
        {
            var balloon = new VirtioBalloon(
                balloonConfig.Id ?? VirtioBalloon.DefaultId, balloonConfig.Size, balloonConfig.DeflateOnOom, balloonConfig.FreePageReporting);
            owned.Add(balloon);
            devices.Add(AddVirtioPciDevice(balloon, balloonConfig.PciDeviceId, vm, memory, gsiRouting, segments[0], owned));
        }

        if (config.Watchdog)
        {
            var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, control.RequestReset);
            owned.Add(watchdog);
            devices.Add(AddVirtioPciDevice(watchdog, null, vm, memory, gsiRouting, segments[0], owned));
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

    /// <summary>virtio-vsock over its Unix socket, bound now (an existing file at the path fails, as upstream).</summary>
    private static VirtioVsock OpenVsock(VsockConfig config)
    {
        var id = config.Id ?? throw new VmmException("Error creating devices", new VmmException("virtio-vsock has no id"));
        try
        {
            return VirtioVsock.Create(id, config.Cid, config.Socket);
        }
        catch (VirtioException e)
        {
            throw new VmmException("Error creating devices", e);
        }
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

    private static T? FindDevice<T>(List<VirtioPciDevice> devices)
        where T : class, IVirtioDevice
    {
        foreach (var pci in devices)
        {
            if (pci.Device is T device)
            {
                return device;
            }
        }

        return null;
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
            config.Rtc is not null ? "virtio-rtc (--rtc)" :
            config.Tpm is not null ? "TPM (--tpm)" :
            config.Numa?.Exists(n => n.DeviceId is not null) == true ? "NUMA generic initiators (--numa device_id=)" :
            config.Iommu || config.Rng.Iommu || config.Disks?.Exists(d => d.Iommu) == true || config.Pmem?.Exists(p => p.Iommu) == true
                || config.Vsock?.Iommu == true ? "virtio-iommu" :
            null;
        if (unsupported is not null)
        {
            throw new VmmException("Error creating devices", VmmException.NotSupportedYet(unsupported));
        }
    }
}
