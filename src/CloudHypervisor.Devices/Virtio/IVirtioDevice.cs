namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// A virtio device model behind a transport: what it offers, its configuration space, and its
/// queue processing once the driver sets DRIVER_OK. The transport serialises calls to it.
/// </summary>
public interface IVirtioDevice : IDisposable
{
    /// <summary>The id upstream gives it (<c>__rng</c>, <c>_disk0</c>, …), also its I/O thread's name.</summary>
    string Id { get; }

    VirtioDeviceType DeviceType { get; }

    /// <summary>The maximum size of each queue; the count is the device's number of queues.</summary>
    IReadOnlyList<ushort> QueueMaxSizes { get; }

    /// <summary>Feature bits offered; <see cref="VirtioFeatures.Version1"/> is always among them.</summary>
    ulong AvailableFeatures { get; }

    /// <summary>Bytes of device configuration space, or null when the device has none of its own (upstream then advertises a 4 KiB window).</summary>
    int? ConfigSize { get; }

    void ReadConfig(ulong offset, Span<byte> data);

    void WriteConfig(ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Starts processing the enabled queues; throws <see cref="VirtioException"/> when it cannot.</summary>
    void Activate(VirtioActivation activation);

    /// <summary>Stops processing (joins the I/O thread) and forgets the driver's state; a later activation starts afresh.</summary>
    void Reset();
}
