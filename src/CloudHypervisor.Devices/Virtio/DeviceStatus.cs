namespace CloudHypervisor.Devices.Virtio;

/// <summary>The device_status bits the driver sets during initialisation (VIRTIO 1.2 §2.1).</summary>
public static class DeviceStatus
{
    public const byte Reset = 0;
    public const byte Acknowledge = 1;
    public const byte Driver = 2;
    public const byte DriverOk = 4;
    public const byte FeaturesOk = 8;
    public const byte NeedsReset = 0x40;
    public const byte Failed = 0x80;

    /// <summary>Every bit a driver sets on the way to a running device.</summary>
    public const byte Ready = Acknowledge | Driver | FeaturesOk | DriverOk;
}
