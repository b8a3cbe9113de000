namespace CloudHypervisor.Devices.Virtio.Block;

/// <summary>What `--disk` says about one virtio-block device, once the image is open.</summary>
/// <param name="Serial">The GET_ID answer: `serial=` bytes, or the 20-byte default derived from the path.</param>
/// <param name="Sparse">`sparse=`: offer DISCARD when the backend can punch holes.</param>
/// <param name="DisableSector0Writes">The image type was autodetected as raw: writes to sector 0 are refused, as upstream does.</param>
public sealed record BlockDeviceOptions(
    string Id,
    int NumQueues,
    ushort QueueSize,
    byte[] Serial,
    bool Sparse,
    bool DisableSector0Writes);
