using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Acpi;

/// <summary>
/// The registers behind the DSDT's <c>\_SB_.PHPR</c>: per segment a bitmap of slots that came up (PCIU)
/// and of slots asked to go down (PCID), each cleared when read; B0EJ, where the guest's <c>_EJ0</c>
/// writes the slots it has let go of; PSEG, which selects the segment the other three refer to.
/// </summary>
public sealed class PciHotplugController : IBusDevice
{
    public const ulong Size = 0x10;
    private const ulong SlotsUpOffset = 0;
    private const ulong SlotsDownOffset = 4;
    private const ulong EjectOffset = 8;
    private const ulong SegmentOffset = 12;

    private readonly object gate = new();
    private readonly uint[] slotsUp;
    private readonly uint[] slotsDown;
    private readonly Action<ushort, int> eject;
    private ushort selectedSegment;

    /// <param name="segmentCount">How many PCI segments there are.</param>
    /// <param name="eject">Called (on the vCPU thread) for each slot the guest ejects: segment, slot.</param>
    public PciHotplugController(int segmentCount, Action<ushort, int> eject)
    {
        slotsUp = new uint[segmentCount];
        slotsDown = new uint[segmentCount];
        this.eject = eject;
    }

    /// <summary>Records that <paramref name="slot"/> of <paramref name="segment"/> now holds a device.</summary>
    public void SlotUp(ushort segment, int slot)
    {
        lock (gate)
        {
            slotsUp[segment] |= 1u << slot;
        }
    }

    /// <summary>Records that the device in <paramref name="slot"/> of <paramref name="segment"/> should be ejected.</summary>
    public void SlotDown(ushort segment, int slot)
    {
        lock (gate)
        {
            slotsDown[segment] |= 1u << slot;
        }
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        data.Clear();
        if (data.Length != 4)
        {
            return;
        }

        uint value;
        lock (gate)
        {
            value = offset switch
            {
                SlotsUpOffset => Take(slotsUp),
                SlotsDownOffset => Take(slotsDown),
                SegmentOffset => selectedSegment,
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
        ushort segment;
        lock (gate)
        {
            if (offset == SegmentOffset)
            {
                if (value < (uint)slotsUp.Length)
                {
                    selectedSegment = (ushort)value;
                }

                return;
            }

            if (offset != EjectOffset)
            {
                return;
            }

            segment = selectedSegment;
        }

        for (var slot = 0; slot < 32; slot++)
        {
            if ((value & (1u << slot)) != 0)
            {
                eject(segment, slot);
            }
        }
    }

    private uint Take(uint[] bitmaps)
    {
        var value = bitmaps[selectedSegment];
        bitmaps[selectedSegment] = 0;
        return value;
    }
}
