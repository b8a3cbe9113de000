using System.Buffers.Binary;
using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Tests.Devices;

/// <summary>The IOAPIC register model and the MSIs it sends, observed through a fake MSI sink.</summary>
public class IoapicTests
{
    private const ulong Select = 0x00, Window = 0x10;
    private const uint EdgeVector = 0x24, LevelVector = 0x31;

    private readonly FakeMsiDelivery msi = new();
    private readonly Ioapic ioapic;

    public IoapicTests()
    {
        ioapic = new Ioapic(msi);
    }

    [Fact]
    public void VersionRegisterReportsVersion0x11With24Entries()
    {
        Assert.Equal(0x0017_0011u, ReadRegister(0x01));
    }

    [Fact]
    public void IdRegisterKeepsFourBitsAndArbitrationMirrorsIt()
    {
        WriteRegister(0x00, 0xFF00_0000);

        Assert.Equal(0x0F00_0000u, ReadRegister(0x00));
        Assert.Equal(0x0F00_0000u, ReadRegister(0x02));
    }

    [Fact]
    public void RegisterSelectReadsBack()
    {
        Write(Select, 0x23);

        Assert.Equal(0x23u, Read(Select));
    }

    [Fact]
    public void EntriesResetMaskedAndUnrouted()
    {
        for (var pin = 0; pin < Ioapic.Pins; pin++)
        {
            Assert.Equal(0x0001_0000u, ReadRegister(0x10 + (2 * (uint)pin)));
            Assert.Equal(0u, ReadRegister(0x11 + (2 * (uint)pin)));
        }

        ioapic.Pin(4).Trigger();
        Assert.Empty(msi.Sent);
        Assert.Empty(msi.Routes);
    }

    [Fact]
    public void RedirectionEntryHalvesReadBackButRemoteIrrAndDeliveryStatusAreReadOnly()
    {
        WriteRegister(0x11 + (2 * 7), 0x0300_0000);
        WriteRegister(0x10 + (2 * 7), 0x0000_5000 | 0x8000 | 0x0800 | 0x2000 | LevelVector);

        Assert.Equal(0x0300_0000u, ReadRegister(0x11 + (2 * 7)));
        Assert.Equal(0x8000u | 0x0800 | 0x2000 | LevelVector, ReadRegister(0x10 + (2 * 7)));
    }

    [Fact]
    public void UnmaskingAnEntryRoutesItsPinAsGsiAndMaskingRemovesTheRoute()
    {
        ProgramEdge(pin: 4, destination: 0);

        Assert.Equal(new MsiMessage(0xFEE0_0008, EdgeVector), msi.Routes[4]);

        WriteRegister(0x10 + (2 * 4), 0x0001_0000 | EdgeVector);
        Assert.False(msi.Routes.ContainsKey(4));
    }

    [Fact]
    public void EdgePinSendsTheMsiItsEntryDescribes()
    {
        ProgramEdge(pin: 4, destination: 3);

        ioapic.Pin(4).Trigger();
        ioapic.Pin(4).Trigger();

        Assert.Equal([new MsiMessage(0xFEE0_3008, EdgeVector), new MsiMessage(0xFEE0_3008, EdgeVector)], msi.Sent);
    }

    [Fact]
    public void EdgePinFiresOnTheRisingEdgeOnly()
    {
        ProgramEdge(pin: 5, destination: 0);

        ioapic.Pin(5).Assert();
        ioapic.Pin(5).Assert();
        ioapic.Pin(5).Deassert();
        ioapic.Pin(5).Assert();

        Assert.Equal(2, msi.Sent.Count);
    }

    [Fact]
    public void MaskedPinDropsEdges()
    {
        WriteRegister(0x10 + (2 * 4), 0x0001_0000 | EdgeVector);

        ioapic.Pin(4).Trigger();

        Assert.Empty(msi.Sent);
    }

    [Fact]
    public void LogicalNmiLevelEntryEncodesDestinationModeDeliveryModeAndTrigger()
    {
        WriteRegister(0x11 + (2 * 9), 0xA500_0000);
        WriteRegister(0x10 + (2 * 9), 0x8000 | 0x0800 | (4 << 8) | 0x02);

        ioapic.Pin(9).Assert();

        var sent = Assert.Single(msi.Sent);
        Assert.Equal(0xFEEA_500CUL, sent.Address);
        Assert.Equal(0xC000u | (4 << 8) | 0x02, sent.Data);
    }

    [Fact]
    public void ExtendedDestinationIdGoesToTheHighAddressWord()
    {
        // Destination 0x1_23: bits 63:56 = 0x23, bits 55:49 = 0x01.
        WriteRegister(0x11 + (2 * 2), 0x2302_0000);
        WriteRegister(0x10 + (2 * 2), EdgeVector);

        ioapic.Pin(2).Trigger();

        Assert.Equal(0x0000_0100_FEE2_3008UL, Assert.Single(msi.Sent).Address);
    }

    [Fact]
    public void LevelPinWaitsForEoiAndFiresAgainWhileStillAsserted()
    {
        ProgramLevel(pin: 10);

        ioapic.Pin(10).Assert();
        Assert.Single(msi.Sent);
        Assert.True(ioapic.Entry(10).RemoteIrr);
        Assert.NotEqual(0u, ReadRegister(0x10 + (2 * 10)) & 0x4000);

        ioapic.Pin(10).Assert();
        ioapic.Pin(10).Trigger();
        Assert.Single(msi.Sent);

        ioapic.EndOfInterrupt((byte)LevelVector);
        Assert.Equal(2, msi.Sent.Count);
        Assert.True(ioapic.Entry(10).RemoteIrr);

        ioapic.Pin(10).Deassert();
        ioapic.EndOfInterrupt((byte)LevelVector);
        Assert.Equal(2, msi.Sent.Count);
        Assert.False(ioapic.Entry(10).RemoteIrr);
    }

    [Fact]
    public void EoiForAnotherVectorLeavesRemoteIrrSet()
    {
        ProgramLevel(pin: 10);
        ioapic.Pin(10).Assert();

        ioapic.EndOfInterrupt((byte)(LevelVector + 1));

        Assert.True(ioapic.Entry(10).RemoteIrr);
    }

    [Fact]
    public void UnmaskingAnAssertedLevelPinDeliversIt()
    {
        WriteRegister(0x10 + (2 * 11), 0x0001_8000 | LevelVector);
        ioapic.Pin(11).Assert();
        Assert.Empty(msi.Sent);

        WriteRegister(0x10 + (2 * 11), 0x8000 | LevelVector);

        Assert.Equal(new MsiMessage(0xFEE0_0008, 0xC000 | LevelVector), Assert.Single(msi.Sent));
    }

    [Fact]
    public void AccessesOtherThanFourBytesAreIgnored()
    {
        ioapic.Write(0, Select, [0x01]);
        Span<byte> data = stackalloc byte[2];
        data.Fill(0xAA);
        ioapic.Read(0, Window, data);

        Assert.Equal(0, data[0]);
        Assert.Equal(0u, Read(Select));
    }

    [Fact]
    public void SerialReceivedDataRaisesPinFour()
    {
        ProgramEdge(pin: 4, destination: 0);
        var serial = new Serial16550(NullSink.Instance, ioapic.Pin(4));
        serial.Write(0x3F8, 1, [0x01]); // IER: received data available

        serial.QueueInput("hi"u8);

        Assert.Equal(new MsiMessage(0xFEE0_0008, EdgeVector), Assert.Single(msi.Sent));
    }

    private void ProgramEdge(int pin, byte destination)
    {
        WriteRegister(0x11 + (2 * (uint)pin), (uint)destination << 24);
        WriteRegister(0x10 + (2 * (uint)pin), EdgeVector);
    }

    private void ProgramLevel(int pin)
    {
        WriteRegister(0x11 + (2 * (uint)pin), 0);
        WriteRegister(0x10 + (2 * (uint)pin), 0x8000 | LevelVector);
    }

    private uint ReadRegister(uint register)
    {
        Write(Select, register);
        return Read(Window);
    }

    private void WriteRegister(uint register, uint value)
    {
        Write(Select, register);
        Write(Window, value);
    }

    private uint Read(ulong offset)
    {
        Span<byte> data = stackalloc byte[4];
        ioapic.Read(0xFEC0_0000, offset, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    private void Write(ulong offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        ioapic.Write(0xFEC0_0000, offset, data);
    }

    private sealed class FakeMsiDelivery : IMsiDelivery
    {
        public List<MsiMessage> Sent { get; } = [];

        public Dictionary<uint, MsiMessage> Routes { get; } = [];

        public void SetRoute(uint gsi, MsiMessage message) => Routes[gsi] = message;

        public void RemoveRoute(uint gsi) => Routes.Remove(gsi);

        public void Send(MsiMessage message) => Sent.Add(message);
    }
}
