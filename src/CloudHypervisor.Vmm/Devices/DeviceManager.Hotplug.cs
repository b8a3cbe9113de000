using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.Acpi;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Vmm.Memory;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>What a hot plug needs of the VM besides the buses.</summary>
internal sealed record HotplugContext(IVm Vm, GuestMemory Memory, MemorySlots Slots, IReadOnlyDictionary<string, RateLimiter> RateLimitGroups);

/// <summary>
/// ACPI PCI hotplug, as upstream: a device plugged into a running VM takes the lowest free slot and a
/// 64-bit BAR; the slot is reported up in PHPR and the GED interrupt tells the guest to rescan. A removal
/// only reports the slot down; the device goes when the guest ejects the slot (B0EJ). Every method here
/// runs on the VMM thread.
/// </summary>
public sealed partial class DeviceManager
{
    private readonly List<VirtioPciDevice> virtioDevices = [];
    private readonly List<PmemRegion> pmemRegions = [];

    /// <summary>The resources each hot-plugged function owns beyond the transport (its MSI vectors).</summary>
    private readonly Dictionary<VirtioPciDevice, List<IDisposable>> pluggedResources = [];
    private HotplugContext hotplugContext = null!;

    /// <summary>The PHPR registers the DSDT's hotplug methods use.</summary>
    public PciHotplugController PciHotplug { get; private set; } = null!;

    /// <summary>Hears, on a vCPU thread, that the guest ejected a slot (segment, slot); the VMM unplugs it on its own thread.</summary>
    public Action<ushort, int>? EjectRequested { get; set; }

    /// <summary>Builds a virtio-block device for <paramref name="disk"/> (which has its id) and plugs it into the running VM.</summary>
    /// <returns>Where it landed.</returns>
    public PciDeviceInfo HotplugDisk(DiskConfig disk)
    {
        var segment = PciSegments[disk.PciSegment];
        var resources = new List<IDisposable>();
        try
        {
            var block = BlockDevices.Open(disk, hotplugContext.RateLimitGroups);
            resources.Add(block);
            return Plug(block, disk.PciDeviceId, segment, resources);
        }
        catch
        {
            DisposeAll(resources);
            throw;
        }
    }

    /// <summary>Builds a virtio-net device for <paramref name="net"/> (named; its TAP by name or duplicated fds) and plugs it in.</summary>
    public PciDeviceInfo HotplugNet(NetConfig net)
    {
        var resources = new List<IDisposable>();
        try
        {
            var device = NetDevices.Open(net);
            resources.Add(device);
            return Plug(device, net.PciDeviceId, PciSegments[net.PciSegment], resources);
        }
        catch
        {
            DisposeAll(resources);
            throw;
        }
    }

    /// <summary>Builds the virtio-vsock device for <paramref name="vsock"/> (named), binding its socket, and plugs it in.</summary>
    public PciDeviceInfo HotplugVsock(VsockConfig vsock)
    {
        var resources = new List<IDisposable>();
        try
        {
            var device = OpenVsock(vsock);
            resources.Add(device);
            return Plug(device, vsock.PciDeviceId, PciSegments[vsock.PciSegment], resources);
        }
        catch
        {
            DisposeAll(resources);
            throw;
        }
    }

    /// <summary>
    /// Maps the pmem file into a range of the 64-bit window in its own memory slot (as at boot), builds the
    /// virtio-pmem device over it and plugs it in; the slot's mapping is taken out again when that fails.
    /// </summary>
    public PciDeviceInfo HotplugPmem(PmemConfig pmem)
    {
        var context = hotplugContext;
        var segment = PciSegments[pmem.PciSegment];
        var resources = new List<IDisposable>();
        var regions = new List<PmemRegion>(1);
        try
        {
            var device = OpenPmem(pmem, context.Vm, context.Slots, segment, resources, regions);
            var info = Plug(device, pmem.PciDeviceId, segment, resources);
            pmemRegions.AddRange(regions);
            return info;
        }
        catch
        {
            foreach (var region in regions)
            {
                UnmapPmem(segment, region);
            }

            DisposeAll(resources);
            throw;
        }
    }

    /// <summary>Reports the function with <paramref name="id"/> down to the guest; false when no such device is plugged.</summary>
    public bool RequestRemoval(string id)
    {
        foreach (var segment in PciSegments)
        {
            for (var slot = 0; slot < PciBus.SlotCount; slot++)
            {
                if (segment.Bus.DeviceAt(slot) is VirtioPciDevice pci && pci.Device.Id == id)
                {
                    PciHotplug.SlotDown(segment.Id, slot);
                    Ged.Notify(AcpiNotification.PciDevicesChanged);
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Takes the function in <paramref name="slot"/> out of the VM: its configuration space, BAR mapping and
    /// ioeventfds go, its device thread stops and its files close, and its slot and BAR range become free.
    /// </summary>
    /// <returns>The removed device's id and BDF; null when the slot held no virtio function.</returns>
    public (string Id, string Bdf)? Unplug(ushort segmentId, int slot)
    {
        if (segmentId >= PciSegments.Count)
        {
            return null;
        }

        var segment = PciSegments[segmentId];
        if (segment.Bus.DeviceAt(slot) is not VirtioPciDevice pci)
        {
            return null;
        }

        var bar = pci.Bar;
        segment.Bus.RemoveDevice(pci);
        MmioBus.Remove(bar.Address);
        pci.UnregisterNotifiers();
        pci.Dispose();
        owned.Remove(pci);
        owned.Remove(pci.Device);
        if (pmemRegions.Find(r => r.Id == pci.Device.Id) is { } region)
        {
            UnmapPmem(segment, region);
            pmemRegions.Remove(region);
        }

        if (pluggedResources.Remove(pci, out var resources))
        {
            foreach (var resource in resources)
            {
                owned.Remove(resource);
            }

            DisposeAll(resources);
        }

        FreeBar(segment, bar);
        segment.Bus.ReleaseSlot(slot);
        virtioDevices.Remove(pci);
        return (pci.Device.Id, PciBdf(segment.Id, slot));
    }

    public static string PciBdf(ushort segment, int slot) => $"{segment:x4}:00:{slot:x2}.0";

    private void OnEject(ushort segment, int slot) => EjectRequested?.Invoke(segment, slot);

    /// <summary>
    /// Plugs <paramref name="device"/> in: slot, MSI-X vectors, a 64-bit BAR (upstream gives hot-plugged
    /// devices no 32-bit BAR), ioeventfds, then the slot is reported up. Undone completely on failure.
    /// </summary>
    private PciDeviceInfo Plug(IVirtioDevice device, byte? explicitSlot, PciSegment segment, List<IDisposable> resources)
    {
        var context = hotplugContext;
        int? slot = null;
        ulong? barAddress = null;
        VirtioPciDevice? pci = null;
        try
        {
            if (explicitSlot is { } requested)
            {
                segment.Bus.ReserveSlot(requested);
                slot = requested;
            }
            else
            {
                slot = segment.Bus.AllocateSlot();
            }

            var vectors = MsiVectorGroup.Create(context.Vm, GsiRouting, device.QueueMaxSizes.Count + 1);
            resources.Add(vectors);
            barAddress = segment.AllocateBar(PciBarRegion.Memory64, VirtioPciLayout.BarSize, VirtioPciLayout.Bar64Alignment);
            pci = new VirtioPciDevice(device, context.Memory, vectors, barAddress.Value, PciBarRegion.Memory64);
            pci.RegisterNotifiers(
                (fd, address) => context.Vm.RegisterIoEventFd(fd.Fd, address, isPio: false),
                (fd, address) => context.Vm.UnregisterIoEventFd(fd.Fd, address, isPio: false));
            segment.AddDevice(slot.Value, pci, [pci.Bar]);
        }
        catch
        {
            if (pci is not null)
            {
                pci.UnregisterNotifiers();
                resources.Remove(device);
                resources.Insert(0, pci);
            }

            if (barAddress is { } address)
            {
                segment.Mmio64.Free(address, VirtioPciLayout.BarSize);
            }

            if (slot is { } taken)
            {
                segment.Bus.ReleaseSlot(taken);
            }

            throw;
        }

        resources.Remove(device);
        owned.Insert(0, pci);
        owned.AddRange(resources);
        pluggedResources[pci] = resources;
        virtioDevices.Add(pci);
        PciHotplug.SlotUp(segment.Id, slot.Value);
        Ged.Notify(AcpiNotification.PciDevicesChanged);
        return new PciDeviceInfo { Id = device.Id, Bdf = PciBdf(segment.Id, slot.Value) };
    }

    /// <summary>Deletes the range's hypervisor memory slot (size 0) and frees the range in the 64-bit window.</summary>
    private void UnmapPmem(PciSegment segment, PmemRegion region)
    {
        hotplugContext.Vm.SetUserMemoryRegion(region.Slot, region.Start, 0, 0);
        segment.Mmio64.Free(region.Start, region.Size);
    }

    private static void FreeBar(PciSegment segment, PciBar bar)
    {
        foreach (var window in new[] { segment.Mmio32, segment.Mmio64 })
        {
            if (window.Contains(bar.Address, bar.Size))
            {
                window.Free(bar.Address, bar.Size);
            }
        }
    }

    private static void DisposeAll(List<IDisposable> resources)
    {
        foreach (var resource in resources)
        {
            resource.Dispose();
        }

        resources.Clear();
    }
}
