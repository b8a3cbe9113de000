using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Devices.Interrupts;

/// <summary>
/// One 64-bit IOAPIC redirection table entry: vector (7:0), delivery mode (10:8), destination mode
/// (11, logical when set), delivery status (12, read-only), polarity (13), remote IRR (14, read-only),
/// trigger mode (15, level when set), mask (16), extended destination ID (55:49), destination (63:56).
/// </summary>
public readonly record struct RedirectionEntry(ulong Value)
{
    private const ulong RemoteIrrBit = 1UL << 14, DeliveryStatusBit = 1UL << 12, MaskBit = 1UL << 16;
    private const ulong ReadOnlyBits = RemoteIrrBit | DeliveryStatusBit;

    /// <summary>The reset value: masked, everything else zero.</summary>
    public static RedirectionEntry Reset => new(MaskBit);

    public byte Vector => (byte)Value;

    public int DeliveryMode => (int)(Value >> 8) & 0x7;

    public bool IsLogicalDestination => (Value & (1UL << 11)) != 0;

    public bool RemoteIrr => (Value & RemoteIrrBit) != 0;

    public bool IsLevelTriggered => (Value & (1UL << 15)) != 0;

    public bool IsMasked => (Value & MaskBit) != 0;

    /// <summary>The APIC ID (physical) or logical set (logical): bits 63:56, plus bits 55:49 as ID bits 14:8.</summary>
    public uint Destination => (uint)(Value >> 56) | ((uint)(Value >> 49) & 0x7F) << 8;

    /// <summary>A guest write of the low dword: the read-only bits keep their state.</summary>
    public RedirectionEntry WithLow(uint written) =>
        new((Value & ~0xFFFF_FFFFUL) | (Value & ReadOnlyBits) | (written & ~ReadOnlyBits));

    public RedirectionEntry WithHigh(uint written) => new((Value & 0xFFFF_FFFFUL) | ((ulong)written << 32));

    public RedirectionEntry WithRemoteIrr(bool set) => new(set ? Value | RemoteIrrBit : Value & ~RemoteIrrBit);

    /// <summary>
    /// The MSI this entry sends (Intel SDM "Message Address/Data Register Format"): 0xFEE base,
    /// destination ID 7:0 in address bits 19:12 (bits 31:8 in the high address word, as KVM's
    /// 32-bit APIC ID format expects), redirection hint as upstream sets it, destination mode;
    /// data = trigger mode, level asserted, delivery mode, vector.
    /// </summary>
    public MsiMessage ToMsi()
    {
        const ulong apicBase = 0xFEE0_0000, redirectionHint = 1UL << 3;
        var destination = Destination;
        var address = apicBase | ((ulong)(destination & 0xFF) << 12) | redirectionHint |
            (IsLogicalDestination ? 1UL << 2 : 0) | ((ulong)(destination & ~0xFFu) << 32);
        var data = (uint)Vector | ((uint)DeliveryMode << 8) | (IsLevelTriggered ? (1u << 15) | (1u << 14) : 0);
        return new MsiMessage(address, data);
    }
}
