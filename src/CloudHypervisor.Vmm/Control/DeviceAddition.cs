using CloudHypervisor.Contracts;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Vmm.Control;

/// <summary>
/// One <c>vm.add-*</c> request: the device configuration plus any descriptors that came with it
/// (TAP fds for a network device, a VFIO cdev fd), owned by the addition until the VM takes them.
/// </summary>
public abstract class DeviceAddition
{
    private readonly List<SafeFd> fds;

    protected DeviceAddition(string feature, IReadOnlyList<SafeFd>? fds = null)
    {
        Feature = feature;
        this.fds = fds is null ? [] : [.. fds];
    }

    /// <summary>What the device is, as named in "not supported yet" errors.</summary>
    public string Feature { get; }

    internal IReadOnlyList<SafeFd> Fds => fds;

    /// <summary>The device's configuration (DiskConfig, NetConfig, …).</summary>
    internal abstract object Configuration { get; }

    public static DeviceAddition Disk(DiskConfig disk) => new Listed<DiskConfig>("virtio-block devices", disk, c => c.Disks ??= []);

    public static DeviceAddition Fs(FsConfig fs) => new Listed<FsConfig>("virtio-fs devices", fs, c => c.Fs ??= []);

    public static DeviceAddition Pmem(PmemConfig pmem) => new Listed<PmemConfig>("virtio-pmem devices", pmem, c => c.Pmem ??= []);

    public static DeviceAddition UserDevice(UserDeviceConfig device) => new Listed<UserDeviceConfig>("vfio-user devices", device, c => c.UserDevices ??= []);

    public static DeviceAddition Vdpa(VdpaConfig vdpa) => new Listed<VdpaConfig>("vDPA devices", vdpa, c => c.Vdpa ??= []);

    public static DeviceAddition GenericVhostUser(GenericVhostUserConfig device) =>
        new Listed<GenericVhostUserConfig>("generic vhost-user devices", device, c => c.GenericVhostUser ??= []);

    /// <summary>Every received descriptor becomes a TAP fd, in order; fds named in the JSON are ignored.</summary>
    public static DeviceAddition Net(NetConfig net, IReadOnlyList<SafeFd> tapFds)
    {
        net.Fds = tapFds.Count == 0 ? null : [.. FdNumbers(tapFds)];
        return new Listed<NetConfig>("virtio-net devices", net, c => c.Net ??= [], tapFds);
    }

    public static DeviceAddition Device(DeviceConfig device, SafeFd? vfioFd)
    {
        device.Fd = vfioFd?.Fd;
        return new Listed<DeviceConfig>("VFIO devices", device, c => c.Devices ??= [], vfioFd is null ? null : [vfioFd]);
    }

    public static DeviceAddition Vsock(VsockConfig vsock) => new VsockAddition(vsock);

    /// <summary>Adds the device to <paramref name="config"/> (a copy; validation follows).</summary>
    internal abstract void AddTo(VmConfig config);

    /// <summary>Closes the descriptors of a request that was not applied.</summary>
    internal void ReleaseFds()
    {
        foreach (var fd in fds)
        {
            fd.Dispose();
        }

        fds.Clear();
    }

    private static IEnumerable<int> FdNumbers(IReadOnlyList<SafeFd> handles)
    {
        foreach (var handle in handles)
        {
            yield return handle.Fd;
        }
    }

    private sealed class Listed<T>(string feature, T device, Func<VmConfig, List<T>> list, IReadOnlyList<SafeFd>? fds = null)
        : DeviceAddition(feature, fds)
    {
        internal override object Configuration => device!;

        internal override void AddTo(VmConfig config) => list(config).Add(device);
    }

    private sealed class VsockAddition(VsockConfig vsock) : DeviceAddition("virtio-vsock devices")
    {
        internal override object Configuration => vsock;

        internal override void AddTo(VmConfig config)
        {
            if (config.Vsock is not null)
            {
                throw new VmError(VmErrorKind.Failed, "Too many virtio-vsock devices");
            }

            config.Vsock = vsock;
        }
    }
}
