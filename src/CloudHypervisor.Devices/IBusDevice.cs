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

/// <summary>A device's interrupt line into the guest's interrupt controller.</summary>
public interface IInterruptLine
{
    /// <summary>One interrupt now: an edge, or a pulse of a level-triggered line.</summary>
    void Trigger();

    /// <summary>Holds a level-triggered line high until <see cref="Deassert"/>; on an edge-triggered pin, a rising edge.</summary>
    void Assert();

    void Deassert();
}
