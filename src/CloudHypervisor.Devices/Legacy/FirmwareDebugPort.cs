namespace CloudHypervisor.Devices.Legacy;

/// <summary>Port 0x402: firmware debug output, copied to the VMM's stdout. Reads return 0xE9 (presence signature).</summary>
public sealed class FirmwareDebugPort : IBusDevice
{
    public const ushort Port = 0x402;
    private readonly IByteSink output;

    public FirmwareDebugPort(IByteSink output)
    {
        this.output = output;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        if (data.Length == 1)
        {
            data[0] = 0xE9;
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data) => output.Write(data);
}

/// <summary>The `--debug-console` port (0xE9 by default): output only.</summary>
public sealed class DebugConsole : IBusDevice
{
    private readonly IByteSink output;

    public DebugConsole(IByteSink output)
    {
        this.output = output;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data) => output.Write(data);
}
