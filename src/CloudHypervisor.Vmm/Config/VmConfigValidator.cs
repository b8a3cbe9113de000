using System.Numerics;
using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Config;

/// <summary>
/// Upstream's VmConfig::validate: the rules in the same order (so the first violation reported
/// matches), also turning on the virtio-iommu when any device sits behind it.
/// Throws <see cref="ConfigValidationException"/>.
/// </summary>
public static class VmConfigValidator
{
    public static void Validate(VmConfig config)
    {
        try
        {
            Check(config);
        }
        catch (InvalidConfigException e)
        {
            throw new ConfigValidationException(e);
        }
    }

    private static void Check(VmConfig c)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        CheckPayload(c.Payload);
        CheckCpus(c.Cpus);

        foreach (var group in c.RateLimitGroups ?? [])
        {
            if ((group.RateLimiterConfig.Bandwidth is null && group.RateLimiterConfig.Ops is null) || group.Id.Length == 0)
            {
                throw ValidationErrors.InvalidRateLimiterGroup();
            }

            Identifier(ids, group.Id);
        }

        foreach (var disk in c.Disks ?? [])
        {
            CheckDisk(c, disk);
            c.Iommu |= disk.Iommu;
            Identifier(ids, disk.Id);
        }

        foreach (var net in c.Net ?? [])
        {
            if (net.VhostUser && !SharedMemory(c))
            {
                throw ValidationErrors.VhostUserRequiresSharedMemory();
            }

            CheckNet(c, net);
            c.Iommu |= net.Iommu;
            Identifier(ids, net.Id);
        }

        if (c.Fs is { Count: > 0 } && !SharedMemory(c))
        {
            throw ValidationErrors.VhostUserRequiresSharedMemory();
        }

        foreach (var fs in c.Fs ?? [])
        {
            Queues(fs.NumQueues, c.Cpus.BootVcpus);
            QueueSize(fs.QueueSize);
            Pci(c, fs.PciSegment, fs.PciDeviceId, iommu: false, supportsIommu: false);
            Identifier(ids, fs.Id);
        }

        if (c.GenericVhostUser is { Count: > 0 } && !SharedMemory(c))
        {
            throw ValidationErrors.VhostUserRequiresSharedMemory();
        }

        foreach (var device in c.GenericVhostUser ?? [])
        {
            if (device.Iommu)
            {
                throw ValidationErrors.IommuNotSupported();
            }

            foreach (ushort size in device.QueueSizes)
            {
                QueueSize(size);
            }

            Pci(c, device.PciSegment, device.PciDeviceId, iommu: false, supportsIommu: false);
            Identifier(ids, device.Id);
        }

        foreach (var pmem in c.Pmem ?? [])
        {
            Pci(c, pmem.PciSegment, pmem.PciDeviceId, pmem.Iommu, supportsIommu: true);
            c.Iommu |= pmem.Iommu;
            Identifier(ids, pmem.Id);
        }

        c.Iommu |= c.Rng.Iommu || c.Console.Iommu || (c.Rtc?.Iommu ?? false) || (c.Balloon?.Iommu ?? false);
        CheckTopology(c.Cpus);
        CheckMemory(c.Memory);

        if (c.UserDevices is { Count: > 0 } && !SharedMemory(c))
        {
            throw ValidationErrors.UserDevicesRequireSharedMemory();
        }

        foreach (var device in c.UserDevices ?? [])
        {
            Pci(c, device.PciSegment, device.PciDeviceId, iommu: false, supportsIommu: false);
            Identifier(ids, device.Id);
        }

        foreach (var vdpa in c.Vdpa ?? [])
        {
            Pci(c, vdpa.PciSegment, vdpa.PciDeviceId, vdpa.Iommu, supportsIommu: true);
            c.Iommu |= vdpa.Iommu;
            Identifier(ids, vdpa.Id);
        }

        if (c.Vsock is { Cid: 0 or 1 or 2 or uint.MaxValue } special)
        {
            throw ValidationErrors.VsockSpecialCid(special.Cid);
        }

        if (c.Balloon is { } balloon)
        {
            ulong ram = c.Memory.Size;
            foreach (var zone in c.Memory.Zones ?? [])
            {
                ram += zone.Size;
            }

            if (balloon.Size >= ram)
            {
                throw ValidationErrors.BalloonLargerThanRam(balloon.Size, ram);
            }
        }

        CheckVfioDevices(c, ids);

        if (c.Vsock is { } vsock)
        {
            Pci(c, vsock.PciSegment, vsock.PciDeviceId, vsock.Iommu, supportsIommu: true);
            c.Iommu |= vsock.Iommu;
            Identifier(ids, vsock.Id);
        }

        CheckNuma(c);
        foreach (var zone in c.Memory.Zones ?? [])
        {
            Identifier(ids, zone.Id);
        }

        foreach (var segment in c.PciSegments ?? [])
        {
            if (segment.PciSegment >= NumPciSegments(c))
            {
                throw ValidationErrors.InvalidPciSegment(segment.PciSegment);
            }

            if (segment.Mmio32ApertureWeight == 0 || segment.Mmio64ApertureWeight == 0)
            {
                throw ValidationErrors.InvalidPciSegmentApertureWeight(0);
            }
        }

        CheckPlatform(c.Platform);
        c.Iommu |= c.Platform?.IommuSegments is not null;

        foreach (var rule in c.LandlockRules ?? [])
        {
            if (!File.Exists(rule.Path) && !Directory.Exists(rule.Path))
            {
                throw ValidationErrors.LandlockPathDoesNotExist(rule.Path);
            }

            if (rule.Access is not ("r" or "w" or "rw"))
            {
                throw ValidationErrors.InvalidLandlockAccess();
            }
        }
    }

    private static void CheckPayload(PayloadConfig? payload)
    {
        if (payload is null)
        {
            throw ValidationErrors.PayloadNotBootable(ValidationErrors.MissingBootitem());
        }

        if (payload.Firmware is not null && payload.Kernel is not null)
        {
            throw ValidationErrors.PayloadNotBootable(ValidationErrors.FirmwarePlusOtherPayloads());
        }
    }

    private static void CheckCpus(CpusConfig cpus)
    {
        if (cpus.MaxVcpus < cpus.BootVcpus)
        {
            throw ValidationErrors.CpusMaxLowerThanBoot(cpus.MaxVcpus, cpus.BootVcpus);
        }

        if (cpus.MaxVcpus > ValidationErrors.MaxVcpus)
        {
            throw ValidationErrors.TooManyVcpus(cpus.MaxVcpus);
        }
    }

    private static void CheckTopology(CpusConfig cpus)
    {
        if (cpus.Topology is not { } t)
        {
            return;
        }

        if (t.ThreadsPerCore == 0 || t.CoresPerDie == 0 || t.DiesPerPackage == 0 || t.Packages == 0)
        {
            throw ValidationErrors.CpuTopologyZeroPart();
        }

        if (t.ThreadsPerCore > 2)
        {
            throw ValidationErrors.CpuTopologyThreads();
        }

        if ((ulong)t.ThreadsPerCore * t.CoresPerDie * t.DiesPerPackage * t.Packages != cpus.MaxVcpus)
        {
            throw ValidationErrors.CpuTopologyCount();
        }
    }

    private static void CheckMemory(MemoryConfig memory)
    {
        if (memory.Mergeable && memory.Shared)
        {
            throw ValidationErrors.MergeableWithShared();
        }

        if (memory.HugepageSize is { } size)
        {
            if (!memory.Hugepages)
            {
                throw ValidationErrors.HugePageSizeWithoutHugePages();
            }

            if (!BitOperations.IsPow2(size))
            {
                throw ValidationErrors.InvalidHugePageSize(size);
            }
        }
    }

    private static void CheckDisk(VmConfig c, DiskConfig disk)
    {
        if (disk.VhostSocket is not null && disk.Path is not null)
        {
            throw ValidationErrors.DiskSocketAndPath();
        }

        if (disk.VhostUser && !SharedMemory(c))
        {
            throw ValidationErrors.VhostUserRequiresSharedMemory();
        }

        if (disk.VhostUser && disk.VhostSocket is null)
        {
            throw ValidationErrors.VhostUserMissingSocket();
        }

        if (disk.RateLimitGroup is { } group && (c.RateLimitGroups?.Exists(g => g.Id == group) ?? false) == false)
        {
            throw ValidationErrors.InvalidRateLimiterGroup();
        }

        Queues(disk.NumQueues, c.Cpus.BootVcpus);
        QueueSize(disk.QueueSize);
        if (disk.QueueSize <= ValidationErrors.MinimumBlockQueueSize)
        {
            throw ValidationErrors.BlockQueueSizeTooSmall(disk.QueueSize);
        }

        if (disk.VhostUser && disk.Iommu)
        {
            throw ValidationErrors.IommuNotSupported();
        }

        Pci(c, disk.PciSegment, disk.PciDeviceId, disk.Iommu, supportsIommu: true);
        if (disk.RateLimiterConfig is not null && disk.RateLimitGroup is not null)
        {
            throw ValidationErrors.InvalidRateLimiterGroup();
        }

        if (disk.Serial is { } serial && System.Text.Encoding.UTF8.GetByteCount(serial) > ValidationErrors.BlockSerialMaxLength)
        {
            throw ValidationErrors.InvalidSerialLength(System.Text.Encoding.UTF8.GetByteCount(serial));
        }
    }

    private static void CheckNet(VmConfig c, NetConfig net)
    {
        if (net.NumQueues < 2)
        {
            throw ValidationErrors.VnetQueueLowerThan2(net.NumQueues);
        }

        if (net.Fds is { } fds)
        {
            if ((ulong)fds.Count * 2 != net.NumQueues)
            {
                throw ValidationErrors.VnetQueueFdMismatch(net.NumQueues, (ulong)fds.Count * 2);
            }

            foreach (int fd in fds)
            {
                if (fd <= 2)
                {
                    throw ValidationErrors.VnetReservedFd(fd);
                }
            }
        }

        Queues(net.NumQueues / 2, c.Cpus.BootVcpus);
        QueueSize(net.QueueSize);
        if (net.VhostUser && net.Iommu)
        {
            throw ValidationErrors.IommuNotSupported();
        }

        Pci(c, net.PciSegment, net.PciDeviceId, net.Iommu, supportsIommu: true);
        if (net.Mtu is { } mtu && mtu < ValidationErrors.MinMtu)
        {
            throw ValidationErrors.InvalidMtu(mtu);
        }

        if (!net.OffloadCsum && (net.OffloadTso || net.OffloadUfo))
        {
            throw ValidationErrors.NoHardwareChecksumOffload();
        }

        if (net.Mask is not null && net.Ip is null)
        {
            throw ValidationErrors.MaskWithoutIp();
        }

        if (net.Ip is not null && net.Mask is null)
        {
            throw ValidationErrors.IpWithoutMask();
        }
    }

    private static void CheckVfioDevices(VmConfig c, HashSet<string> ids)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in c.Devices ?? [])
        {
            if (device.Path is null && device.Fd is null)
            {
                throw ValidationErrors.VfioPathOrFdMissing();
            }

            if (device.Path is not null && device.Fd is not null)
            {
                throw ValidationErrors.VfioPathAndFd();
            }

            if (device.Fd is not null && c.Platform?.IommufdFd is null)
            {
                throw ValidationErrors.VfioFdRequiresIommufd();
            }

            if (device.Path is { } path && !paths.Add(path))
            {
                throw ValidationErrors.DuplicateDevicePath(path);
            }

            Pci(c, device.PciSegment, device.PciDeviceId, device.Iommu, supportsIommu: true);
            c.Iommu |= device.Iommu;
            Identifier(ids, device.Id);
        }
    }

    private static void CheckNuma(VmConfig c)
    {
        var zones = new Dictionary<string, uint>(StringComparer.Ordinal);
        var segments = new Dictionary<ushort, uint>();
        foreach (var node in c.Numa ?? [])
        {
            foreach (string zone in node.MemoryZones ?? [])
            {
                if (!zones.TryAdd(zone, node.GuestNumaId))
                {
                    throw ValidationErrors.MemoryZoneReused(zone, zones[zone], node.GuestNumaId);
                }
            }

            foreach (ushort segment in node.PciSegments ?? [])
            {
                if (segment >= NumPciSegments(c))
                {
                    throw ValidationErrors.InvalidPciSegment(segment);
                }

                if (segment == 0 && node.GuestNumaId != 0)
                {
                    throw ValidationErrors.DefaultPciSegmentInvalidNode(node.GuestNumaId);
                }

                if (!segments.TryAdd(segment, node.GuestNumaId))
                {
                    throw ValidationErrors.PciSegmentReused(segment, segments[segment], node.GuestNumaId);
                }
            }
        }
    }

    private static void CheckPlatform(PlatformConfig? platform)
    {
        if (platform is null)
        {
            return;
        }

        if (platform.NumPciSegments == 0 || platform.NumPciSegments > ValidationErrors.MaxNumPciSegments)
        {
            throw ValidationErrors.InvalidNumPciSegments(platform.NumPciSegments);
        }

        foreach (ushort segment in platform.IommuSegments ?? [])
        {
            if (segment >= platform.NumPciSegments)
            {
                throw ValidationErrors.InvalidPciSegment(segment);
            }
        }

        if (platform.IommuAddressWidthBits > ValidationErrors.MaxIommuAddressWidthBits)
        {
            throw ValidationErrors.InvalidIommuAddressWidthBits(platform.IommuAddressWidthBits);
        }
    }

    private static void Pci(VmConfig c, ushort segment, byte? deviceId, bool iommu, bool supportsIommu)
    {
        if (segment >= NumPciSegments(c))
        {
            throw ValidationErrors.InvalidPciSegment(segment);
        }

        if (c.Platform?.IommuSegments?.Contains(segment) == true)
        {
            if (!supportsIommu)
            {
                throw ValidationErrors.IommuNotSupportedOnSegment(segment);
            }

            if (!iommu)
            {
                throw ValidationErrors.OnIommuSegment(segment);
            }
        }

        if (deviceId is { } id)
        {
            if (id >= 32)
            {
                throw ValidationErrors.PciDeviceIdOutOfRange(id);
            }

            if (id == 0 && segment == 0)
            {
                throw ValidationErrors.PciDeviceIdReserved(id);
            }
        }
    }

    private static void Queues(ulong queues, uint bootVcpus)
    {
        if (queues > bootVcpus)
        {
            throw ValidationErrors.TooManyQueues(queues, bootVcpus);
        }
    }

    private static void QueueSize(ushort size)
    {
        if (!BitOperations.IsPow2((uint)size))
        {
            throw ValidationErrors.InvalidQueueSizePowerOfTwo(size);
        }
    }

    private static ushort NumPciSegments(VmConfig c) => c.Platform?.NumPciSegments ?? 1;

    private static void Identifier(HashSet<string> ids, string? id)
    {
        if (id is null)
        {
            return;
        }

        if (id.StartsWith("__", StringComparison.Ordinal))
        {
            throw ValidationErrors.InvalidIdentifier(id);
        }

        if (!ids.Add(id))
        {
            throw ValidationErrors.IdentifierNotUnique(id);
        }
    }

    /// <summary>Guest RAM is shareable with a vhost-user backend: shared or hugepage memory, or (size=0) every zone so.</summary>
    public static bool SharedMemory(VmConfig c)
    {
        if (c.Memory.Shared || c.Memory.Hugepages)
        {
            return true;
        }

        if (c.Memory.Size != 0)
        {
            return false;
        }

        foreach (var zone in c.Memory.Zones ?? [])
        {
            if (!zone.Shared && !zone.Hugepages)
            {
                return false;
            }
        }

        return true;
    }
}
