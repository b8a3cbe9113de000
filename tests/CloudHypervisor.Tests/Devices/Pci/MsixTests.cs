using System.Buffers.Binary;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>The MSI-X capability and table as a guest driver programs them, routed to a recording sink.</summary>
public class MsixTests
{
    private static readonly MsiMessage Vector0Message = new(0xFEE0_1000, 0x4041);

    private readonly RecordingRouting routing = new();
    private readonly MsixTable table;
    private readonly PciConfigSpace config = new(new PciIds(0x1AF4, 0x1041, 0x02, 0x00));
    private readonly int capability;

    public MsixTests()
    {
        table = new MsixTable(3, routing);
        capability = config.AddMsixCapability(new MsixCapability(3, 0, 0x8000, 0, 0x4_8000), table);
    }

    [Fact]
    public void CapabilityIsListedWithTableSizeAndLocations()
    {
        Assert.Equal(0x40, capability);
        Assert.Equal(0x40u, config.ReadRegister(0x34 / 4) & 0xFF);
        Assert.NotEqual(0u, config.ReadRegister(1) & 0x0010_0000); // status: capabilities list
        Assert.Equal(0x0002_0011u, config.ReadRegister(0x10)); // id 0x11, next 0, table size − 1 = 2
        Assert.Equal(0x8000u, config.ReadRegister(0x11));
        Assert.Equal(0x4_8000u, config.ReadRegister(0x12));
    }

    [Fact]
    public void EntriesStartMaskedAndTableWritesAloneRouteNothing()
    {
        Assert.Equal(1u, ReadTable(0xC));
        WriteEntry(0, Vector0Message, masked: false);

        Assert.Empty(routing.Updates);
        Assert.Equal(0xFEE0_1000u, ReadTable(0x0));
        Assert.Equal(0x4041u, ReadTable(0x8));
    }

    [Fact]
    public void EnablingMsixRoutesEveryVectorWithItsMask()
    {
        WriteEntry(0, Vector0Message, masked: false);

        WriteMessageControl(MsixCapability.EnableBit);

        Assert.True(table.Enabled);
        Assert.Contains((0, Vector0Message, false), routing.Updates);
        Assert.Contains((1, new MsiMessage(0, 0), true), routing.Updates);
        Assert.Equal(0x8002u, config.ReadRegister(0x10) >> 16); // enable bit reads back, size stays
    }

    [Fact]
    public void TableWritesWhileEnabledUpdateTheRoute()
    {
        WriteMessageControl(MsixCapability.EnableBit);
        routing.Updates.Clear();

        WriteEntry(2, new MsiMessage(0xFEE0_2000, 0x22), masked: false);

        Assert.Equal((2, new MsiMessage(0xFEE0_2000, 0x22), false), routing.Updates[^1]);
    }

    [Fact]
    public void QwordTableWritesAreTakenWhole()
    {
        WriteMessageControl(MsixCapability.EnableBit);
        var data = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, 0x0000_0001_FEE0_3000);
        table.WriteTable(0x10, data);
        BinaryPrimitives.WriteUInt64LittleEndian(data, 0x0000_0000_0000_0033);
        table.WriteTable(0x18, data);

        Assert.Equal((1, new MsiMessage(0x1_FEE0_3000, 0x33), false), routing.Updates[^1]);
    }

    [Fact]
    public void DisablingOrMaskingTheFunctionDisablesEveryVector()
    {
        WriteMessageControl(MsixCapability.EnableBit);

        WriteMessageControl(MsixCapability.EnableBit | MsixCapability.FunctionMaskBit);

        Assert.Equal([0, 1, 2], routing.Disabled);
    }

    [Fact]
    public void ASignalOnAMaskedVectorIsPendingAndDeliveredOnUnmask()
    {
        WriteMessageControl(MsixCapability.EnableBit);

        table.Signal(0);
        Assert.Empty(routing.Triggered);
        Assert.Equal(1u, ReadPba(0));

        WriteEntry(0, Vector0Message, masked: false);
        Assert.Equal([0], routing.Triggered);
        Assert.Equal(0u, ReadPba(0));

        table.Signal(0);
        Assert.Equal([0, 0], routing.Triggered);
    }

    [Fact]
    public void ASignalWhileTheFunctionIsMaskedIsDeliveredWhenItIsUnmasked()
    {
        WriteEntry(1, Vector0Message, masked: false);
        WriteMessageControl(MsixCapability.EnableBit | MsixCapability.FunctionMaskBit);

        table.Signal(1);
        Assert.Empty(routing.Triggered);

        WriteMessageControl(MsixCapability.EnableBit);
        Assert.Equal([1], routing.Triggered);
    }

    [Fact]
    public void HostileAccessesAreIgnored()
    {
        table.WriteTable(0x30, new byte[4]); // past the last entry
        table.WriteTable(0x2, new byte[4]); // misaligned
        table.WriteTable(0x0, new byte[2]); // not a dword or qword
        table.Signal(7);

        var data = new byte[4];
        table.ReadTable(0x1000, data);
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(data));
        table.ReadPba(0x800, data);
        Assert.Equal(0xFFFF_FFFFu, BitConverter.ToUInt32(data));
        Assert.Empty(routing.Updates);
        Assert.Empty(routing.Triggered);
    }

    [Fact]
    public void OnlyTheControlBitsOfMessageControlAreWritable()
    {
        config.WriteRegister(0x10, 0, BitConverter.GetBytes(0xFFFF_FFFFu));

        Assert.Equal(0xC002_0011u, config.ReadRegister(0x10));
        Assert.True(table.Enabled);
        Assert.True(table.FunctionMasked);
    }

    private void WriteMessageControl(ushort control) =>
        config.WriteRegister(capability / 4, 2, BitConverter.GetBytes(control));

    private void WriteEntry(int vector, MsiMessage message, bool masked)
    {
        var offset = (ulong)vector * 16;
        table.WriteTable(offset, BitConverter.GetBytes((uint)message.Address));
        table.WriteTable(offset + 4, BitConverter.GetBytes((uint)(message.Address >> 32)));
        table.WriteTable(offset + 8, BitConverter.GetBytes(message.Data));
        table.WriteTable(offset + 12, BitConverter.GetBytes(masked ? 1u : 0u));
    }

    private uint ReadTable(ulong offset)
    {
        var data = new byte[4];
        table.ReadTable(offset, data);
        return BitConverter.ToUInt32(data);
    }

    private uint ReadPba(ulong offset)
    {
        var data = new byte[4];
        table.ReadPba(offset, data);
        return BitConverter.ToUInt32(data);
    }

    private sealed class RecordingRouting : IMsixRouting
    {
        public List<(int Vector, MsiMessage Message, bool Masked)> Updates { get; } = [];

        public List<int> Disabled { get; } = [];

        public List<int> Triggered { get; } = [];

        public void Update(int vector, MsiMessage message, bool masked) => Updates.Add((vector, message, masked));

        public void Disable(int vector) => Disabled.Add(vector);

        public void Trigger(int vector) => Triggered.Add(vector);
    }
}
