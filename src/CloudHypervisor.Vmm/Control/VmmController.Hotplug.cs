using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config;
using CloudHypervisor.Vmm.Events;
using GuestVm = CloudHypervisor.Vmm.Vm.Vm;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Hot plug into a booted VM; the device is built here, on the VMM thread, never on a vCPU thread.</summary>
public sealed partial class VmmController
{
    /// <summary>Plugs the addition's device into <paramref name="running"/>; nothing stays applied when it fails.</summary>
    /// <remarks>Unnamed devices get the next name of the sequence the boot started (<c>_disk1</c>, <c>_net2</c>, …).</remarks>
    private PciDeviceInfo Hotplug(GuestVm running, DeviceAddition addition)
    {
        var devices = running.Devices;
        try
        {
            switch (addition.Configuration)
            {
                case DiskConfig disk:
                    return Named(disk.Id, DeviceIdAllocator.DiskPrefix, id => disk.Id = id, () => devices.HotplugDisk(disk));
                case NetConfig net:
                    return Named(net.Id, DeviceIdAllocator.NetPrefix, id => net.Id = id, () => devices.HotplugNet(net));
                case PmemConfig pmem:
                    return Named(pmem.Id, DeviceIdAllocator.PmemPrefix, id => pmem.Id = id, () => devices.HotplugPmem(pmem));
                case VsockConfig vsock:
                    return Named(vsock.Id, DeviceIdAllocator.VsockPrefix, id => vsock.Id = id, () => devices.HotplugVsock(vsock));
                default:
                    throw VmError.NotSupportedYet("Error from device manager", $"hot plug of {addition.Feature}");
            }
        }
        catch (ChainedException e) when (e is not VmError)
        {
            throw new VmError(VmErrorKind.Failed, "Error from device manager", e);
        }
    }

    /// <summary>Names the device for the plug and takes the name back when the plug fails.</summary>
    private PciDeviceInfo Named(string? givenId, string prefix, Action<string?> setId, Func<PciDeviceInfo> plug)
    {
        setId(idAllocator.Create(givenId, prefix));
        try
        {
            return plug();
        }
        catch
        {
            setId(givenId);
            throw;
        }
    }

    /// <summary>The configuration with the hot-plugged device (now named) in it, so vm.info and a reboot see it.</summary>
    private static VmConfig Hotplugged(VmConfig current, DeviceAddition addition)
    {
        var next = ConfigCopy.Of(current);
        addition.AddTo(next);
        return next;
    }

    /// <summary>The guest ejected a slot (reported from a vCPU thread, handled here on the VMM thread).</summary>
    private void OnEjected(GuestVm source, ushort segment, int slot)
    {
        if (!ReferenceEquals(source, vm))
        {
            return;
        }

        if (source.Devices.Unplug(segment, slot) is { } removed)
        {
            EventLog.Emit("vm", "device-removed", "bdf", removed.Bdf, "id", removed.Id);
        }
    }
}
