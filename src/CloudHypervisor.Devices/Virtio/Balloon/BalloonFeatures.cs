namespace CloudHypervisor.Devices.Virtio.Balloon;

/// <summary>virtio-balloon feature bits (VIRTIO 1.2 §5.5.3), as masks; upstream offers only these two.</summary>
public static class BalloonFeatures
{
    /// <summary>The guest may take pages back from the balloon when it runs out of memory (`deflate_on_oom=on`).</summary>
    public const ulong DeflateOnOom = 1UL << 2;

    /// <summary>A third queue on which the guest reports free page ranges the host may reclaim (`free_page_reporting=on`).</summary>
    public const ulong Reporting = 1UL << 5;
}
