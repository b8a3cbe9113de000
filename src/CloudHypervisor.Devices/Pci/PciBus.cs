using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// Bus 0 of a segment: 32 device slots, function 0 only, as upstream. Slot 0 holds the host bridge
/// on segment 0. Configuration accesses from both mechanisms are serialised here.
/// </summary>
public sealed class PciBus
{
    public const int SlotCount = 32;

    private readonly object gate = new();
    private readonly PciDevice?[] devices = new PciDevice?[SlotCount];
    private readonly bool[] slotTaken = new bool[SlotCount];
    private readonly IPciBarRelocation relocation;

    public PciBus(IPciBarRelocation relocation, PciRootBridge? hostBridge)
    {
        this.relocation = relocation;
        if (hostBridge is not null)
        {
            devices[0] = hostBridge;
            slotTaken[0] = true;
        }
    }

    /// <summary>Takes the lowest free slot.</summary>
    public int AllocateSlot()
    {
        lock (gate)
        {
            for (var slot = 0; slot < SlotCount; slot++)
            {
                if (!slotTaken[slot])
                {
                    slotTaken[slot] = true;
                    return slot;
                }
            }
        }

        throw new PciException("Could not find an available device slot on the PCI bus");
    }

    /// <summary>Takes <paramref name="slot"/>, which a device asked for explicitly (<c>pci_device_id</c>).</summary>
    public void ReserveSlot(int slot)
    {
        if ((uint)slot >= SlotCount)
        {
            throw new PciException("Invalid PCI device identifier provided");
        }

        lock (gate)
        {
            if (slotTaken[slot])
            {
                throw new PciException("Valid PCI device identifier but already used");
            }

            slotTaken[slot] = true;
        }
    }

    public void ReleaseSlot(int slot)
    {
        if ((uint)slot >= SlotCount)
        {
            throw new PciException("Invalid PCI device identifier provided");
        }

        lock (gate)
        {
            slotTaken[slot] = false;
        }
    }

    /// <summary>Places <paramref name="device"/> in <paramref name="slot"/> (taken with <see cref="AllocateSlot"/> or <see cref="ReserveSlot"/>).</summary>
    public void AddDevice(int slot, PciDevice device)
    {
        lock (gate)
        {
            devices[slot] = device;
        }
    }

    public void RemoveDevice(PciDevice device)
    {
        lock (gate)
        {
            for (var slot = 0; slot < SlotCount; slot++)
            {
                if (ReferenceEquals(devices[slot], device))
                {
                    devices[slot] = null;
                }
            }
        }
    }

    public PciDevice? DeviceAt(int slot)
    {
        lock (gate)
        {
            return (uint)slot < SlotCount ? devices[slot] : null;
        }
    }

    /// <summary>Dword <paramref name="register"/> of the function in <paramref name="slot"/>; all ones when the slot is empty.</summary>
    public uint ReadConfig(int slot, int register)
    {
        lock (gate)
        {
            return (uint)slot < SlotCount && devices[slot] is { } device ? device.ReadConfigRegister(register) : 0xFFFF_FFFF;
        }
    }

    public void WriteConfig(int slot, int register, int offset, ReadOnlySpan<byte> data)
    {
        lock (gate)
        {
            if ((uint)slot >= SlotCount || devices[slot] is not { } device)
            {
                return;
            }

            if (device.WriteConfigRegister(register, offset, data) is not { } move)
            {
                return;
            }

            try
            {
                relocation.MoveBar(device, move);
            }
            catch (Exception e) when (e is PciException or BusException)
            {
                Log.Error($"Failed moving device BAR: {e.Message}: 0x{move.OldBase:x}->0x{move.NewBase:x}(0x{move.Length:x})");
            }
        }
    }
}
