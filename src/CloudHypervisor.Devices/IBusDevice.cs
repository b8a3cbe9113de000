namespace CloudHypervisor.Devices;

/// <summary>A device on the port-I/O or MMIO bus. Called on vCPU threads; implementations lock their own state.</summary>
public interface IBusDevice
{
    /// <summary>Fills <paramref name="data"/> for a guest read at <paramref name="offset"/> from the device's base.</summary>
    void Read(ulong baseAddress, ulong offset, Span<byte> data);

    void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data);
}

/// <summary>What devices can ask of the VM: guest-initiated power events.</summary>
public interface IVmControl
{
    void RequestShutdown();

    void RequestReset();
}

/// <summary>An edge-triggered interrupt line into the guest.</summary>
public interface IInterruptLine
{
    void Trigger();
}
