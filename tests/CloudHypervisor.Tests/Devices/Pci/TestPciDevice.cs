using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>A function with BARs that records what reaches them.</summary>
internal sealed class TestPciDevice : PciDevice
{
    public TestPciDevice()
        : base(new PciConfigSpace(new PciIds(0x1AF4, 0x1044, PciClass.Other, 0xFF, Revision: 1, SubsystemVendorId: 0x1AF4, SubsystemId: 0x1044)))
    {
    }

    public List<(ulong Base, ulong Offset, byte[] Data)> Writes { get; } = [];

    public List<(ulong OldBase, ulong NewBase)> Moves { get; } = [];

    public override void Read(ulong baseAddress, ulong offset, Span<byte> data) => data.Fill((byte)offset);

    public override void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data) =>
        Writes.Add((baseAddress, offset, data.ToArray()));

    public override void MoveBar(ulong oldBase, ulong newBase) => Moves.Add((oldBase, newBase));
}
