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
    private PciDeviceInfo Hotplug(GuestVm running, DeviceAddition addition)
    {
        if (addition.Configuration is not DiskConfig disk)
        {
            throw VmError.NotSupportedYet("Error from device manager", $"hot plug of {addition.Feature}");
        }

        var givenId = disk.Id;
        disk.Id = idAllocator.Create(disk.Id, DeviceIdAllocator.DiskPrefix);
        try
        {
            return running.Devices.HotplugDisk(disk);
        }
        catch (ChainedException e)
        {
            disk.Id = givenId;
            throw new VmError(VmErrorKind.Failed, "Error from device manager", e);
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
