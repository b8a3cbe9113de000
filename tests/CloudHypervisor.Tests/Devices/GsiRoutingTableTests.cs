using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Hypervisor;

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

    private sealed class RecordingVm : IVm
    {
        public List<MsiRoute[]> Tables { get; } = [];

        public List<MsiMessage> Signalled { get; } = [];

        public uint TscKhz => 0;

        public void SetGsiRouting(ReadOnlySpan<MsiRoute> routes) => Tables.Add(routes.ToArray());

        public void SignalMsi(MsiMessage message) => Signalled.Add(message);

        public void SetUserMemoryRegion(uint slot, ulong guestAddress, ulong size, nint hostAddress, bool readOnly = false) => throw new NotSupportedException();

        public void EnableSplitIrqChip(uint ioapicPins) => throw new NotSupportedException();

        public void EnableX2ApicApi() => throw new NotSupportedException();

        public void SetTssAddress(ulong address) => throw new NotSupportedException();

        public void SetIdentityMapAddress(ulong address) => throw new NotSupportedException();

        public IVcpu CreateVcpu(int id) => throw new NotSupportedException();

        public void RegisterIrqFd(int eventFd, uint gsi) => throw new NotSupportedException();

        public void UnregisterIrqFd(int eventFd, uint gsi) => throw new NotSupportedException();

        public void RegisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null) => throw new NotSupportedException();

        public void UnregisterIoEventFd(int eventFd, ulong address, bool isPio, uint length = 0, ulong? dataMatch = null) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
