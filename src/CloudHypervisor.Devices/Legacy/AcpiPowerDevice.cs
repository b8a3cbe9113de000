namespace CloudHypervisor.Devices.Legacy;

/// <summary>
/// Port 0x600, the FADT's sleep control and reset register: 0x34 (SLP_TYP 5, SLP_EN) shuts down,
/// 0x01 resets. Reads return 0.
/// </summary>
public sealed class AcpiPowerDevice : IBusDevice
{
    public const ushort Port = 0x600;
    public const int Length = 4;
    private const byte ResetValue = 1, SleepEnable = 1 << 5, SleepTypeS5 = 5;
    private readonly IVmControl vm;

    public AcpiPowerDevice(IVmControl vm)
    {
        this.vm = vm;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset != 0 || data.Length != 1)
        {
            return;
        }

        if (data[0] == ResetValue)
        {
            vm.RequestReset();
        }
        else if ((data[0] & SleepEnable) != 0 && ((data[0] >> 2) & 7) == SleepTypeS5)
        {
            vm.RequestShutdown();
        }
    }
}
