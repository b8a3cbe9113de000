namespace CloudHypervisor.Vmm.Config;

/// <summary>The texts of upstream's configuration ValidationError variants.</summary>
public static class ValidationErrors
{
    public const int MaxVcpus = 8192;
    public const int MaxNumPciSegments = 96;
    public const int MaxIommuAddressWidthBits = 64;
    public const int BlockSerialMaxLength = 20;
    public const int MinimumBlockQueueSize = 2;
    public const int MaxQueueSize = 32768;
    public const int MinMtu = 1280;

    public static InvalidConfigException ConsoleFileMissing() => new("Path missing when using file console mode");

    public static InvalidConfigException ConsoleSocketPathMissing() => new("Path missing when using socket console mode");

    public static InvalidConfigException DebugconFileMissing() => new("Path missing when using file mode for debug console");

    public static InvalidConfigException CpusMaxLowerThanBoot(uint max, uint boot) => new($"Max CPUs ({max}) lower than boot CPUs ({boot})");

    public static InvalidConfigException TooManyVcpus(uint max) => new($"Too many CPUs: specified {max} but {MaxVcpus} is the limit");

    public static InvalidConfigException DiskSocketAndPath() => new("Disk path and vhost socket both provided");

    public static InvalidConfigException VhostUserRequiresSharedMemory() => new("Using vhost-user requires using shared memory or huge pages");

    public static InvalidConfigException VhostUserMissingSocket() => new("No socket provided when using vhost-user");

    public static InvalidConfigException CpuTopologyCount() => new("Product of CPU topology parts does not match maximum vCPU");

    public static InvalidConfigException CpuTopologyZeroPart() => new("No part of the CPU topology can be zero");

    public static InvalidConfigException CpuTopologyThreads() => new("CPU topology supports at most 2 threads per core");

    public static InvalidConfigException VnetQueueLowerThan2(ulong queues) => new($"Number of queues ({queues}) to virtio_net should be higher than 2");

    public static InvalidConfigException VnetQueueFdMismatch(ulong queues, ulong fds) => new($"Number of queues ({queues}) to virtio_net does not match the number of FDs ({fds})");

    public static InvalidConfigException VnetReservedFd(int fd) => new($"Reserved fd number (<= 2): {fd}");

    public static InvalidConfigException NoHardwareChecksumOffload() => new("\"offload_tso\" and \"offload_ufo\" depend on \"offload_csum\"");

    public static InvalidConfigException HugePageSizeWithoutHugePages() => new("Huge page size specified but huge pages not enabled");

    public static InvalidConfigException InvalidHugePageSize(ulong size) => new($"Huge page size is not power of 2: {size}");

    public static InvalidConfigException TooManyQueues(ulong queues, uint bootVcpus) => new($"Queue count ({queues}) must not exceed boot vCPUs ({bootVcpus})");

    public static InvalidConfigException InvalidQueueSizePowerOfTwo(ulong size) => new($"Queue size must be a power of 2 no greater than {MaxQueueSize}: {size}");

    public static InvalidConfigException BlockQueueSizeTooSmall(ushort size) => new($"Block queue size must be greater than {MinimumBlockQueueSize}: {size}");

    public static InvalidConfigException UserDevicesRequireSharedMemory() => new("Using user devices requires using shared memory or huge pages");

    public static InvalidConfigException VsockSpecialCid(ulong cid) => new($"{cid} is a special VSOCK CID");

    public static InvalidConfigException MemoryZoneReused(string zone, uint first, uint second) => new($"Memory zone: {zone} belongs to multiple NUMA nodes: {first} and {second}");

    public static InvalidConfigException InvalidNumPciSegments(ushort count) => new($"Number of PCI segments ({count}) not in range of 1 to {MaxNumPciSegments}");

    public static InvalidConfigException InvalidPciSegment(ushort segment) => new($"Invalid PCI segment id: {segment}");

    public static InvalidConfigException InvalidPciSegmentApertureWeight(uint weight) => new($"Invalid PCI segment aperture weight: {weight}");

    public static InvalidConfigException InvalidIommuAddressWidthBits(byte bits) => new($"IOMMU address width in bits ({bits}) should be less than or equal to {MaxIommuAddressWidthBits}");

    public static InvalidConfigException BalloonLargerThanRam(ulong balloon, ulong ram) => new($"Balloon size ({balloon}) greater than RAM ({ram})");

    public static InvalidConfigException OnIommuSegment(ushort segment) => new($"Device is on an IOMMU PCI segment ({segment}) but not placed behind IOMMU");

    public static InvalidConfigException IommuNotSupportedOnSegment(ushort segment) => new($"Device is on an IOMMU PCI segment ({segment}) but does not support being placed behind IOMMU");

    public static InvalidConfigException IdentifierNotUnique(string id) => new($"Identifier {id} is not unique");

    public static InvalidConfigException InvalidIdentifier(string id) => new($"Identifier {id} is not valid");

    public static InvalidConfigException IommuNotSupported() => new("Device does not support being placed behind IOMMU");

    public static InvalidConfigException DuplicateDevicePath(string path) => new($"Duplicated device path: {path}");

    public static InvalidConfigException InvalidMtu(ushort mtu) => new($"Provided MTU {mtu} is lower than 1280 (expected by VIRTIO specification)");

    public static InvalidConfigException PciSegmentReused(ushort segment, uint first, uint second) => new($"PCI segment: {segment} belongs to multiple NUMA nodes {first} and {second}");

    public static InvalidConfigException DefaultPciSegmentInvalidNode(uint node) => new($"Default PCI segment assigned to non-zero NUMA node {node}");

    public static InvalidConfigException InvalidRateLimiterGroup() => new("Invalid rate-limiter group");

    public static InvalidConfigException InvalidIoPortHex(string value) => new($"The IO port was not properly provided in hex or a `0x` prefix is missing: {value}");

    public static InvalidConfigException LandlockPathDoesNotExist(string path) => new($"Path {RustDebug.Quote(path)} provided in landlock-rules does not exist");

    // Upstream's wording, typo included; the rejected value is not part of the message.
    public static InvalidConfigException InvalidLandlockAccess() => new("access provided in landlock-rules in invalid");

    public static InvalidConfigException InvalidSerialLength(int length) => new($"Block device serial length ({length}) exceeds maximum allowed length ({BlockSerialMaxLength})");

    public static InvalidConfigException PciDeviceIdOutOfRange(byte id) => new($"Given PCI device ID ({id}) is out of the supported range of 0..32");

    public static InvalidConfigException PciDeviceIdReserved(byte id) => new($"Given PCI device ID ({id}) is reserved");

    public static InvalidConfigException MaskWithoutIp() => new("Mask provided without an IP");

    public static InvalidConfigException IpWithoutMask() => new("IP provided without a mask");

    public static InvalidConfigException VfioPathOrFdMissing() => new("VFIO device config must specify `path=` or `fd=`");

    public static InvalidConfigException VfioPathAndFd() => new("VFIO device config must specify at most one of `path=` or `fd=`");

    public static InvalidConfigException VfioFdRequiresIommufd() => new("VFIO device `fd=` requires platform `iommufd_fd=<fd>`");

    public static InvalidConfigException MergeableWithShared() => new("Invalid to set both 'mergeable' and 'shared' for memory");

    public static InvalidConfigException PayloadNotBootable(InvalidConfigException cause) => new("Payload configuration is not bootable", cause);

    public static InvalidConfigException FirmwarePlusOtherPayloads() => new("Specifying a kernel is not supported when a firmware is provided");

    public static InvalidConfigException MissingBootitem() => new("No bootitem provided: neither firmware nor kernel");
}
