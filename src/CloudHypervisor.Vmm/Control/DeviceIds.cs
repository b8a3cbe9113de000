using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Finds and removes configured devices by their identifier.</summary>
internal static class DeviceIds
{
    /// <returns>false when no configured device has <paramref name="id"/>.</returns>
    public static bool Remove(VmConfig config, string id) =>
        RemoveFrom(config.Disks, d => d.Id, id)
        || RemoveFrom(config.Net, d => d.Id, id)
        || RemoveFrom(config.Fs, d => d.Id, id)
        || RemoveFrom(config.Pmem, d => d.Id, id)
        || RemoveFrom(config.Devices, d => d.Id, id)
        || RemoveFrom(config.UserDevices, d => d.Id, id)
        || RemoveFrom(config.Vdpa, d => d.Id, id)
        || RemoveFrom(config.GenericVhostUser, d => d.Id, id)
        || RemoveVsock(config, id);

    private static bool RemoveFrom<T>(List<T>? devices, Func<T, string?> idOf, string id)
    {
        var index = devices?.FindIndex(d => idOf(d) == id) ?? -1;
        if (index < 0)
        {
            return false;
        }

        devices!.RemoveAt(index);
        return true;
    }

    private static bool RemoveVsock(VmConfig config, string id)
    {
        if (config.Vsock?.Id != id)
        {
            return false;
        }

        config.Vsock = null;
        return true;
    }
}
