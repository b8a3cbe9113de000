namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// A PCI function: its configuration space, and its BARs, which sit on the MMIO or port-I/O bus
/// (the bus passes the BAR's base as <c>baseAddress</c>). Config accesses are serialised by the PCI
/// bus; BAR accesses arrive on vCPU threads concurrently and the device locks what it shares.
/// </summary>
public abstract class PciDevice : IBusDevice
{
    protected PciDevice(PciConfigSpace config)
    {
        Config = config;
    }

    public PciConfigSpace Config { get; }

    public virtual uint ReadConfigRegister(int register) => Config.ReadRegister(register);

    /// <summary>Applies a guest config write; returns the BAR move it implies for the bus to carry out.</summary>
    public virtual PciBarMove? WriteConfigRegister(int register, int offset, ReadOnlySpan<byte> data) =>
        Config.WriteRegister(register, offset, data);

    /// <summary>The BAR at <paramref name="oldBase"/> now lives at <paramref name="newBase"/> (bus mappings already moved).</summary>
    public virtual void MoveBar(ulong oldBase, ulong newBase)
    {
    }

    public abstract void Read(ulong baseAddress, ulong offset, Span<byte> data);

    public abstract void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data);
}
