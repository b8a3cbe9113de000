namespace CloudHypervisor.Devices.Legacy;

/// <summary>Ports 0x61-0x64: just enough of the PS/2 controller for the 0xFE reset command.</summary>
public sealed class I8042Device : IBusDevice
{
    public const ushort Port = 0x61;
    public const int Length = 4;
    private const ulong CommandOffset = 3;
    private const byte ResetCommand = 0xFE;
    private readonly IVmControl vm;

    public I8042Device(IVmControl vm)
    {
        this.vm = vm;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        if (data.Length == 1)
        {
            data[0] = offset == 0 ? (byte)0x20 : (byte)0;
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length == 1 && offset == CommandOffset && data[0] == ResetCommand)
        {
            vm.RequestReset();
        }
    }
}
