using System.Text;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio.Block;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// Turns a `--disk` configuration into a virtio-block device over its opened and locked image, limited by its
/// own `bw_*`/`ops_*` limiter or by the limiter of the `rate_limit_group` it names.
/// </summary>
internal static class BlockDevices
{
    public static VirtioBlock Open(DiskConfig config, IReadOnlyDictionary<string, RateLimiter> rateLimitGroups)
    {
        var id = config.Id ?? throw new VmmException("Disk without an id");
        RejectUnsupported(config);
        var limiter = Limiter(config, rateLimitGroups);
        var path = config.Path ?? throw new VmmException("Error creating devices", new VmmException("Disk path missing"));
        DiskImage image;
        try
        {
            image = DiskImage.Open(path, config.Readonly, config.Direct);
        }
        catch (DiskImageException e)
        {
            throw new VmmException("Cannot create virtio-blk device", e);
        }

        try
        {
            var disableSector0Writes = false;
            if (config.ImageType == ImageType.Unknown)
            {
                if (image.DetectFormat() != DiskImageFormat.Raw)
                {
                    throw VmmException.NotSupportedYet("qcow2/VHD/VHDX images");
                }

                Log.Warn("Autodetected raw image type. Disabling sector 0 writes.");
                disableSector0Writes = true;
            }

            Lock(image, id, config.LockGranularity);
            var serial = config.Serial is { } s ? Encoding.UTF8.GetBytes(s) : DiskImage.DefaultSerial(path);
            var options = new BlockDeviceOptions(id, (int)config.NumQueues, config.QueueSize, serial, config.Sparse, disableSector0Writes);
            return new VirtioBlock(image, options, limiter);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private static void RejectUnsupported(DiskConfig config)
    {
        var unsupported =
            config.VhostUser ? "vhost-user block devices (--disk vhost_user=on)" :
            config.ImageType is ImageType.Qcow2 or ImageType.Vhdx or ImageType.FixedVhd ? "qcow2/VHD/VHDX images" :
            config.ImageType == ImageType.FlatVmdk ? "VMDK images" :
            null;
        if (unsupported is not null)
        {
            throw VmmException.NotSupportedYet(unsupported);
        }

        if (config.QueueAffinity is { Count: > 0 })
        {
            Log.Warn($"{config.Id}: queue_affinity is ignored: all queues share one I/O thread");
        }
    }

    private static RateLimiter? Limiter(DiskConfig config, IReadOnlyDictionary<string, RateLimiter> groups)
    {
        if (config.RateLimiterConfig is { } own)
        {
            return new RateLimiter(RateLimiters.Settings(own));
        }

        if (config.RateLimitGroup is not { } name)
        {
            return null;
        }

        return groups.TryGetValue(name, out var group)
            ? group
            : throw new VmmException("Error creating devices", new VmmException($"Unknown rate limit group: {name}"));
    }

    private static void Lock(DiskImage image, string id, LockGranularity granularity)
    {
        try
        {
            image.Lock(wholeFile: granularity == LockGranularity.Full);
        }
        catch (DiskImageException e)
        {
            var lockType = image.ReadOnly ? "Read" : "Write";
            var range = granularity == LockGranularity.Full ? "WholeFile" : $"ByteRange(0, {Math.Max(image.LogicalSize, image.PhysicalSize)})";
            Log.Error($"Cannot acquire {lockType} lock for disk image: id={id},path={image.Path},granularity={range}");
            throw new VmmException("Cannot lock images of all block devices", e);
        }
    }
}
