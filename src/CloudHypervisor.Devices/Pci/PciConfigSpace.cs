using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// A function's configuration space: the 256-byte type 0 header plus the PCIe extended space
/// (4 KiB, 1024 dword registers). Bits outside a register's writable mask ignore guest writes.
/// BARs answer the sizing protocol (all ones in, size mask out); moving one is reported to the caller.
/// Not thread-safe: the bus serialises configuration accesses.
/// </summary>
public sealed class PciConfigSpace
{
    public const int RegisterCount = 1024;
    public const int HeaderRegisterCount = 64;
    public const int BarCount = 6;

    private const int CommandStatusRegister = 1;
    private const uint CapabilitiesListStatusBit = 0x0010_0000;
    private const int FirstBarRegister = 4;
    private const int InterruptRegister = 15;
    private const uint MemoryBarAddressMask = 0xFFFF_FFF0;
    private const uint IoBarAddressMask = 0xFFFF_FFFC;
    private const int CapabilityListHead = 0x34;
    private const int FirstCapabilityOffset = 0x40;
    private const int CapabilityAreaEnd = 0xC0;

    /// <summary>The writable bits of an MSI-X capability's first dword: Function Mask and MSI-X Enable.</summary>
    private const uint MsixControlWritableBits = 0xC000_0000;

    private readonly uint[] registers = new uint[RegisterCount];
    private readonly uint[] writable = new uint[RegisterCount];
    private readonly BarState[] bars = new BarState[BarCount];
    private int lastCapabilityOffset = -1;
    private int lastCapabilityLength;
    private int msixRegister = -1;
    private MsixTable? msix;

    public PciConfigSpace(PciIds ids)
    {
        registers[0] = (uint)ids.DeviceId << 16 | ids.VendorId;
        writable[CommandStatusRegister] = 0x0000_FFFF; // command read/write, status read-only
        registers[2] = (uint)ids.ClassCode << 24 | (uint)ids.Subclass << 16 | (uint)ids.ProgrammingInterface << 8 | ids.Revision;
        writable[3] = 0x0000_00FF; // cache line size; header type 0
        writable[InterruptRegister] = 0x0000_00FF; // interrupt line
        registers[11] = (uint)ids.SubsystemId << 16 | ids.SubsystemVendorId;
    }

    /// <summary>Dword <paramref name="register"/>; beyond the 4 KiB space, all ones.</summary>
    public uint ReadRegister(int register) =>
        (uint)register < RegisterCount ? registers[register] : 0xFFFF_FFFF;

    /// <summary>
    /// A guest write of 1, 2 or 4 bytes at byte <paramref name="offset"/> of <paramref name="register"/>.
    /// Returns the BAR move it implies, if any; the caller relocates the mappings.
    /// </summary>
    public PciBarMove? WriteRegister(int register, int offset, ReadOnlySpan<byte> data)
    {
        if ((uint)register >= RegisterCount || offset < 0 || offset + data.Length > 4)
        {
            return null;
        }

        PciBarMove? move = null;
        switch (data.Length)
        {
            case 4:
                var value = BinaryPrimitives.ReadUInt32LittleEndian(data);
                WriteDword(register, value);
                move = DetectBarMove(register, value);
                break;
            case 2:
                if (offset is 0 or 2)
                {
                    WriteMasked(register, 0xFFFFu << (offset * 8), (uint)BinaryPrimitives.ReadUInt16LittleEndian(data) << (offset * 8));
                }

                break;
            case 1:
                WriteMasked(register, 0xFFu << (offset * 8), (uint)data[0] << (offset * 8));
                break;
        }

        if (register == msixRegister && offset + data.Length > 2)
        {
            msix!.SetMessageControl((ushort)(registers[register] >> 16));
        }

        return move;
    }

    /// <summary>Declares BAR <see cref="PciBar.Index"/> at its initial address.</summary>
    public void AddBar(PciBar bar)
    {
        if ((uint)bar.Index >= BarCount)
        {
            throw new PciException($"bar {bar.Index} invalid, max {BarCount - 1}");
        }

        if (bars[bar.Index].Used)
        {
            throw new PciException($"bar {bar.Index} already used");
        }

        if (bar.Size == 0 || (bar.Size & (bar.Size - 1)) != 0)
        {
            throw new PciException($"bar address {bar.Size} not a power of two");
        }

        if (bar.Address > ulong.MaxValue - (bar.Size - 1))
        {
            throw new PciException($"address {bar.Address} size {bar.Size} too big");
        }

        var register = FirstBarRegister + bar.Index;
        var sizeMask = ~(bar.Size - 1);
        if (bar.Region == PciBarRegion.Memory64)
        {
            if (bar.Index + 1 >= BarCount)
            {
                throw new PciException($"64bitbar {bar.Index} invalid, requires two regs, max {BarCount - 1}");
            }

            if (bars[bar.Index + 1].Used)
            {
                throw new PciException($"64bit bar {bar.Index} already used(requires two regs)");
            }

            registers[register + 1] = (uint)(bar.Address >> 32);
            writable[register + 1] = 0xFFFF_FFFF;
            bars[bar.Index + 1] = new BarState { Used = true, IsUpperHalf = true, SizeMask = (uint)(sizeMask >> 32), Programmed = registers[register + 1] };
        }
        else if (bar.Address + bar.Size - 1 > uint.MaxValue)
        {
            throw new PciException($"address {bar.Address} size {bar.Size} too big");
        }

        var addressMask = bar.Region == PciBarRegion.Io ? IoBarAddressMask : MemoryBarAddressMask;
        var lowBits = (uint)bar.Region | (bar.Region != PciBarRegion.Io && bar.Prefetchable ? 0x8u : 0);
        registers[register] = ((uint)bar.Address & addressMask) | lowBits;
        writable[register] = addressMask;
        bars[bar.Index] = new BarState { Used = true, Region = bar.Region, Size = bar.Size, SizeMask = (uint)sizeMask, Programmed = registers[register] };
    }

    /// <summary>The base address BAR <paramref name="index"/> is currently programmed to.</summary>
    public ulong BarAddress(int index)
    {
        var register = FirstBarRegister + index;
        ulong address = registers[register] & writable[register];
        if (bars[index].Region == PciBarRegion.Memory64 && !bars[index].IsUpperHalf)
        {
            address |= (ulong)registers[register + 1] << 32;
        }

        return address;
    }

    /// <summary>
    /// Appends a capability (<paramref name="body"/> follows the id and next-pointer bytes) to the list,
    /// at upstream's offsets: the first at 0x40, each next at the dword after the previous body.
    /// Returns the capability's offset.
    /// </summary>
    public int AddCapability(byte id, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            throw new PciException("empty capabilities are invalid");
        }

        var (offset, pointerOffset) = lastCapabilityOffset < 0
            ? (FirstCapabilityOffset, CapabilityListHead)
            : ((lastCapabilityOffset + lastCapabilityLength + 3) & ~3, lastCapabilityOffset + 1);
        if (offset + body.Length > CapabilityAreaEnd)
        {
            throw new PciException($"capability of size {body.Length} doesn't fit");
        }

        registers[CommandStatusRegister] |= CapabilitiesListStatusBit;
        SetByte(pointerOffset, (byte)offset);
        SetByte(offset, id);
        SetByte(offset + 1, 0);
        for (var i = 0; i < body.Length; i++)
        {
            SetByte(offset + 2 + i, body[i]);
        }

        lastCapabilityOffset = offset;
        lastCapabilityLength = body.Length;
        return offset;
    }

    /// <summary>Adds the MSI-X capability; guest writes to its Message Control reach <paramref name="table"/>.</summary>
    public int AddMsixCapability(MsixCapability capability, MsixTable table)
    {
        Span<byte> body = stackalloc byte[MsixCapability.BodyLength];
        capability.Write(body);
        var offset = AddCapability(PciCapabilityId.MsiX, body);
        msixRegister = offset / 4;
        writable[msixRegister] = MsixControlWritableBits;
        msix = table;
        return offset;
    }

    /// <summary>Lets the guest write <paramref name="mask"/> bits of <paramref name="register"/> (device-specific capabilities).</summary>
    public void SetWritableBits(int register, uint mask) => writable[register] = mask;

    /// <summary>Sets the interrupt line and pin (1 = INTA#) registers.</summary>
    public void SetInterrupt(byte line, byte pin) =>
        registers[InterruptRegister] = (registers[InterruptRegister] & 0xFFFF_0000) | (uint)pin << 8 | line;

    private void WriteDword(int register, uint value)
    {
        var mask = writable[register];
        var barIndex = register - FirstBarRegister;
        if ((uint)barIndex < BarCount && value == 0xFFFF_FFFF)
        {
            // Sizing: the guest reads back which address bits the BAR decodes.
            mask &= bars[barIndex].SizeMask;
        }

        registers[register] = (registers[register] & ~writable[register]) | (value & mask);
    }

    private void WriteMasked(int register, uint byteLanes, uint value)
    {
        var mask = byteLanes & writable[register];
        registers[register] = (registers[register] & ~mask) | (value & mask);
    }

    private PciBarMove? DetectBarMove(int register, uint value)
    {
        var barIndex = register - FirstBarRegister;
        if ((uint)barIndex >= BarCount || value == 0xFFFF_FFFF || !bars[barIndex].Used)
        {
            return null;
        }

        ref var bar = ref bars[barIndex];
        var mask = writable[register];
        if (!bar.IsUpperHalf)
        {
            // A 64-bit BAR moves once its upper half is written, never half-way.
            if (bar.Region == PciBarRegion.Memory64 || (value & mask) == (bar.Programmed & mask))
            {
                return null;
            }

            var move = new PciBarMove(bar.Programmed & mask, value & mask, bar.Size, bar.Region);
            bar.Programmed = value;
            return move;
        }

        ref var lower = ref bars[barIndex - 1];
        var lowerMask = writable[register - 1];
        var oldBase = (ulong)(bar.Programmed & mask) << 32 | (lower.Programmed & lowerMask);
        var newBase = (ulong)(value & mask) << 32 | (registers[register - 1] & lowerMask);
        if (oldBase == newBase)
        {
            return null;
        }

        bar.Programmed = value;
        lower.Programmed = registers[register - 1];
        return new PciBarMove(oldBase, newBase, lower.Size, PciBarRegion.Memory64);
    }

    private void SetByte(int offset, byte value)
    {
        var shift = (offset % 4) * 8;
        ref var r = ref registers[offset / 4];
        r = (r & ~(0xFFu << shift)) | (uint)value << shift;
    }

    private struct BarState
    {
        public bool Used;
        public bool IsUpperHalf;
        public PciBarRegion Region;
        public ulong Size;

        /// <summary>What an all-ones write leaves in this register: the size's address bits.</summary>
        public uint SizeMask;

        /// <summary>The register value the mappings currently follow.</summary>
        public uint Programmed;
    }
}
