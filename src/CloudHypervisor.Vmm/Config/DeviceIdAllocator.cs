using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Config;

/// <summary>
/// Names the devices a user left unnamed, as upstream's device manager does when it creates them
/// at VM boot (not at parse time, not at vm.create): one counter shared by every prefix, starting
/// at 0 for each VM instance, that skips names already in use. A name is in use when it is one of
/// the ids the configuration gives explicitly (anywhere: devices, memory zones, rate-limit groups)
/// or the id of a device created earlier. Upstream writes the names back into the VM config, so
/// vm.info shows them after boot and a reboot (which re-creates devices from that config) keeps them.
/// </summary>
public sealed class DeviceIdAllocator
{
    public const string DiskPrefix = "_disk";
    public const string NetPrefix = "_net";
    public const string GenericVhostUserPrefix = "_generic_vhost_user";
    public const string FsPrefix = "_fs";
    public const string PmemPrefix = "_pmem";
    public const string VsockPrefix = "_vsock";
    public const string VdpaPrefix = "_vdpa";
    public const string VfioPrefix = "_vfio";
    public const string VfioUserPrefix = "_vfio_user";

    private readonly HashSet<string> _configuredIds;
    private readonly HashSet<string> _createdIds = new(StringComparer.Ordinal);
    private ulong _counter;

    /// <param name="configuredIds">Ids the VM configuration gives explicitly (upstream's "boot id list").</param>
    public DeviceIdAllocator(IEnumerable<string> configuredIds)
    {
        _configuredIds = new HashSet<string>(configuredIds, StringComparer.Ordinal);
    }

    /// <summary>The number the next generated name will try first.</summary>
    public ulong Counter => _counter;

    /// <summary>
    /// Gives every unnamed device of <paramref name="config"/> its upstream name, in upstream's
    /// creation order: disks, net, generic vhost-user, fs, pmem, vsock, vDPA, VFIO, vfio-user.
    /// Returns the allocator so hot-plugged devices continue the same sequence.
    /// </summary>
    public static DeviceIdAllocator AssignMissingIds(VmConfig config)
    {
        var allocator = new DeviceIdAllocator(ConfiguredIds(config));
        foreach (var disk in config.Disks ?? [])
        {
            disk.Id = allocator.Create(disk.Id, DiskPrefix);
        }

        foreach (var net in config.Net ?? [])
        {
            net.Id = allocator.Create(net.Id, NetPrefix);
        }

        foreach (var device in config.GenericVhostUser ?? [])
        {
            device.Id = allocator.Create(device.Id, GenericVhostUserPrefix);
        }

        foreach (var fs in config.Fs ?? [])
        {
            fs.Id = allocator.Create(fs.Id, FsPrefix);
        }

        foreach (var pmem in config.Pmem ?? [])
        {
            pmem.Id = allocator.Create(pmem.Id, PmemPrefix);
        }

        if (config.Vsock is { } vsock)
        {
            vsock.Id = allocator.Create(vsock.Id, VsockPrefix);
        }

        foreach (var vdpa in config.Vdpa ?? [])
        {
            vdpa.Id = allocator.Create(vdpa.Id, VdpaPrefix);
        }

        foreach (var device in config.Devices ?? [])
        {
            device.Id = allocator.Create(device.Id, VfioPrefix);
        }

        foreach (var device in config.UserDevices ?? [])
        {
            device.Id = allocator.Create(device.Id, VfioUserPrefix);
        }

        return allocator;
    }

    /// <summary>The explicit ids of a configuration: what upstream's validation collects as unique identifiers.</summary>
    public static IEnumerable<string> ConfiguredIds(VmConfig config)
    {
        foreach (var group in config.RateLimitGroups ?? [])
        {
            yield return group.Id;
        }

        foreach (string? id in DeviceIds(config))
        {
            if (id is not null)
            {
                yield return id;
            }
        }

        foreach (var zone in config.Memory.Zones ?? [])
        {
            yield return zone.Id;
        }
    }

    /// <summary>The id of a device being created: its own when it has one, else the next free generated name.</summary>
    public string Create(string? id, string prefix)
    {
        string name = id ?? Next(prefix);
        _createdIds.Add(name);
        return name;
    }

    /// <summary>The next free "&lt;prefix&gt;&lt;counter&gt;"; the counter advances past every name tried.</summary>
    public string Next(string prefix)
    {
        while (true)
        {
            string name = prefix + _counter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _counter++;
            if (!_configuredIds.Contains(name) && !_createdIds.Contains(name))
            {
                return name;
            }
        }
    }

    private static IEnumerable<string?> DeviceIds(VmConfig config)
    {
        foreach (var disk in config.Disks ?? [])
        {
            yield return disk.Id;
        }

        foreach (var net in config.Net ?? [])
        {
            yield return net.Id;
        }

        foreach (var fs in config.Fs ?? [])
        {
            yield return fs.Id;
        }

        foreach (var device in config.GenericVhostUser ?? [])
        {
            yield return device.Id;
        }

        foreach (var pmem in config.Pmem ?? [])
        {
            yield return pmem.Id;
        }

        foreach (var device in config.UserDevices ?? [])
        {
            yield return device.Id;
        }

        foreach (var vdpa in config.Vdpa ?? [])
        {
            yield return vdpa.Id;
        }

        foreach (var device in config.Devices ?? [])
        {
            yield return device.Id;
        }

        yield return config.Vsock?.Id;
    }
}
