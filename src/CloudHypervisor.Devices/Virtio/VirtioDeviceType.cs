namespace CloudHypervisor.Devices.Virtio;

/// <summary>Virtio device ids (VIRTIO 1.2 §5); the PCI device id is 0x1040 plus the id.</summary>
public enum VirtioDeviceType : ushort
{
    Net = 1,
    Block = 2,
    Console = 3,
    Rng = 4,
    Balloon = 5,
    Rtc = 17,
    Vsock = 19,
    Iommu = 23,
    Mem = 24,
    Fs = 26,
    Pmem = 27,
    Watchdog = 35,
}
