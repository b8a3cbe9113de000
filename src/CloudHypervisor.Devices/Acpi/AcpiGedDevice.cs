namespace CloudHypervisor.Devices.Acpi;

/// <summary>What changed, as the DSDT's GED event handler decodes the register.</summary>
[Flags]
public enum AcpiNotification : byte
{
    None = 0,
    CpuDevicesChanged = 0x01,
    MemoryDevicesChanged = 0x02,
    PciDevicesChanged = 0x04,
    PowerButtonChanged = 0x08,
}

/// <summary>
/// The ACPI Generic Event Device: a one-byte MMIO register of pending notifications, read and
/// cleared by the guest's <c>_EVT</c> handler, and an edge interrupt that tells the guest to look.
/// </summary>
public sealed class AcpiGedDevice : IBusDevice
{
    public const ulong Size = 1;
    private readonly IInterruptLine interrupt;
    private int pending;

    public AcpiGedDevice(IInterruptLine interrupt)
    {
        this.interrupt = interrupt;
    }

    /// <summary>Adds <paramref name="notification"/> to the pending set and interrupts the guest.</summary>
    public void Notify(AcpiNotification notification)
    {
        int current, updated;
        do
        {
            current = Volatile.Read(ref pending);
            updated = current | (int)notification;
        }
        while (Interlocked.CompareExchange(ref pending, updated, current) != current);

        interrupt.Trigger();
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        data.Clear();
        if (data.Length == 1 && offset == 0)
        {
            data[0] = (byte)Interlocked.Exchange(ref pending, 0);
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
