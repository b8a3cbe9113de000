using System.Buffers.Binary;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Interrupts;

/// <summary>
/// An 82093AA-style IOAPIC emulated in userspace next to KVM's in-kernel LAPICs (split irqchip):
/// each asserted pin is sent as the MSI its redirection entry describes. Level-triggered pins set
/// remote IRR until the guest's EOI for the vector comes back (a vCPU exit), and fire again then if
/// still asserted. Pin n is GSI n in the routing table, so the kernel knows which vectors need EOI exits.
/// </summary>
public sealed class Ioapic : IBusDevice, IInterruptController
{
    public const int Pins = 24;

    /// <summary>Version 0x11, maximum redirection entry index 23.</summary>
    public const uint VersionRegisterValue = ((Pins - 1) << 16) | 0x11;

    private const ulong SelectOffset = 0x00, WindowOffset = 0x10;
    private const uint IdRegister = 0x00, VersionRegister = 0x01, ArbitrationRegister = 0x02;
    private const uint FirstTableRegister = 0x10, LastTableRegister = FirstTableRegister + (2 * Pins) - 1;

    private readonly IMsiDelivery delivery;
    private readonly object gate = new();
    private readonly RedirectionEntry[] entries = new RedirectionEntry[Pins];
    private readonly bool[] asserted = new bool[Pins];
    private readonly IInterruptLine[] lines = new IInterruptLine[Pins];
    private uint select, id;

    public Ioapic(IMsiDelivery delivery)
    {
        this.delivery = delivery;
        Array.Fill(entries, RedirectionEntry.Reset);
        for (var pin = 0; pin < Pins; pin++)
        {
            lines[pin] = new Line(this, pin);
        }
    }

    public int PinCount => Pins;

    public IInterruptLine Pin(int pin) => lines[pin];

    /// <summary>The current redirection entry of <paramref name="pin"/>.</summary>
    public RedirectionEntry Entry(int pin)
    {
        lock (gate)
        {
            return entries[pin];
        }
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        if (data.Length != 4)
        {
            data.Clear();
            return;
        }

        uint value;
        lock (gate)
        {
            value = offset switch
            {
                SelectOffset => select,
                WindowOffset => ReadRegister(select),
                _ => 0,
            };
        }

        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != 4)
        {
            return;
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(data);
        lock (gate)
        {
            switch (offset)
            {
                case SelectOffset:
                    select = value & 0xFF;
                    break;
                case WindowOffset:
                    WriteRegister(select, value);
                    break;
            }
        }
    }

    public void EndOfInterrupt(byte vector)
    {
        lock (gate)
        {
            for (var pin = 0; pin < Pins; pin++)
            {
                var entry = entries[pin];
                if (entry.Vector != vector || !entry.IsLevelTriggered || !entry.RemoteIrr)
                {
                    continue;
                }

                entries[pin] = entry.WithRemoteIrr(false);
                if (asserted[pin])
                {
                    Deliver(pin);
                }
            }
        }
    }

    private uint ReadRegister(uint register) => register switch
    {
        IdRegister or ArbitrationRegister => id << 24,
        VersionRegister => VersionRegisterValue,
        >= FirstTableRegister and <= LastTableRegister => (register & 1) == 0
            ? (uint)entries[TablePin(register)].Value
            : (uint)(entries[TablePin(register)].Value >> 32),
        _ => 0,
    };

    private void WriteRegister(uint register, uint value)
    {
        switch (register)
        {
            case IdRegister:
                id = (value >> 24) & 0xF;
                break;
            case >= FirstTableRegister and <= LastTableRegister:
                var pin = TablePin(register);
                var entry = entries[pin];
                entries[pin] = (register & 1) == 0 ? entry.WithLow(value) : entry.WithHigh(value);
                UpdateRoute(pin);
                if (asserted[pin] && entries[pin].IsLevelTriggered)
                {
                    Deliver(pin); // an unmasked, still-asserted level line fires now
                }

                break;
        }
    }

    private static int TablePin(uint register) => (int)(register - FirstTableRegister) / 2;

    private void UpdateRoute(int pin)
    {
        var entry = entries[pin];
        try
        {
            if (entry.IsMasked)
            {
                delivery.RemoveRoute((uint)pin);
            }
            else
            {
                delivery.SetRoute((uint)pin, entry.ToMsi());
            }
        }
        catch (HypervisorException e)
        {
            Log.Error($"Failed updating IOAPIC entry {pin}: {string.Join(": ", e.Chain())}");
        }
    }

    /// <summary>Sends the pin's interrupt unless masked or (level) still awaiting its EOI. Caller holds the lock.</summary>
    private void Deliver(int pin)
    {
        var entry = entries[pin];
        if (entry.IsMasked || (entry.IsLevelTriggered && entry.RemoteIrr))
        {
            return;
        }

        if (entry.IsLevelTriggered)
        {
            entries[pin] = entry.WithRemoteIrr(true);
        }

        try
        {
            delivery.Send(entry.ToMsi());
        }
        catch (HypervisorException e)
        {
            Log.Error($"Failed delivering IOAPIC pin {pin}: {string.Join(": ", e.Chain())}");
        }
    }

    private void Trigger(int pin)
    {
        lock (gate)
        {
            Deliver(pin);
        }
    }

    private void SetLevel(int pin, bool high)
    {
        lock (gate)
        {
            var rising = high && !asserted[pin];
            asserted[pin] = high;
            if (rising || (high && entries[pin].IsLevelTriggered))
            {
                Deliver(pin);
            }
        }
    }

    private sealed class Line(Ioapic ioapic, int pin) : IInterruptLine
    {
        public void Trigger() => ioapic.Trigger(pin);

        public void Assert() => ioapic.SetLevel(pin, true);

        public void Deassert() => ioapic.SetLevel(pin, false);
    }
}
