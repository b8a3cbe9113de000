using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Tests.Hypervisor;

namespace CloudHypervisor.Tests.Devices;

/// <summary>The routing table is handed to the hypervisor whole, sorted by GSI, only when it changes.</summary>
public class GsiRoutingTableTests
{
    private readonly RecordingVm vm = new();

    [Fact]
    public void EveryChangeCommitsTheWholeTableInGsiOrder()
    {
        var table = new GsiRoutingTable(vm);

        table.SetRoute(30, new MsiMessage(0xFEE0_1000, 0x41));
        table.SetRoute(4, new MsiMessage(0xFEE0_0008, 0x24));

        Assert.Equal(
            [new MsiRoute(4, new MsiMessage(0xFEE0_0008, 0x24)), new MsiRoute(30, new MsiMessage(0xFEE0_1000, 0x41))],
            vm.Tables[^1]);

        table.RemoveRoute(30);
        Assert.Equal([new MsiRoute(4, new MsiMessage(0xFEE0_0008, 0x24))], vm.Tables[^1]);
        Assert.Equal(3, vm.Tables.Count);
    }

    [Fact]
    public void UnchangedRoutesAndUnknownRemovalsCommitNothing()
    {
        var table = new GsiRoutingTable(vm);
        table.SetRoute(4, new MsiMessage(0xFEE0_0008, 0x24));

        table.SetRoute(4, new MsiMessage(0xFEE0_0008, 0x24));
        table.RemoveRoute(7);

        Assert.Single(vm.Tables);
    }

    [Fact]
    public void MsiGsisStartAfterTheIoapicPins()
    {
        var table = new GsiRoutingTable(vm);

        Assert.Equal(24u, table.AllocateMsiGsi());
        Assert.Equal(25u, table.AllocateMsiGsi());
    }

    [Fact]
    public void SendInjectsThroughTheHypervisor()
    {
        new GsiRoutingTable(vm).Send(new MsiMessage(0xFEE0_0008, 0x24));

        Assert.Equal([new MsiMessage(0xFEE0_0008, 0x24)], vm.Signalled);
    }

    private sealed class RecordingVm : UnsupportedVm
    {
        public List<MsiRoute[]> Tables { get; } = [];

        public List<MsiMessage> Signalled { get; } = [];

        public override void SetGsiRouting(ReadOnlySpan<MsiRoute> routes) => Tables.Add(routes.ToArray());

        public override void SignalMsi(MsiMessage message) => Signalled.Add(message);
    }
}
