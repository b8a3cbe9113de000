using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Tests.Hypervisor;

namespace CloudHypervisor.Tests.Devices.Pci;

/// <summary>MSI-X vectors become GSI routes (from 24 up) with an irqfd each.</summary>
public class MsiVectorGroupTests
{
    private readonly RecordingVm vm = new();

    [Fact]
    public void EachVectorGetsItsOwnMsiGsiAndIrqFd()
    {
        var routing = new GsiRoutingTable(vm);
        using var group = MsiVectorGroup.Create(vm, routing, 2);

        Assert.Equal([24u, 25u], new[] { group.Gsi(0), group.Gsi(1) });
        Assert.Equal([(group.IrqFd(0).Fd, 24u), (group.IrqFd(1).Fd, 25u)], vm.IrqFds);
    }

    [Fact]
    public void GuestProgrammingTheTableInstallsAndRemovesGsiRoutes()
    {
        var routing = new GsiRoutingTable(vm);
        using var group = MsiVectorGroup.Create(vm, routing, 2);
        var table = new MsixTable(2, group);
        var config = new PciConfigSpace(new PciIds(0x1AF4, 0x1041, 0x02, 0x00));
        var capability = config.AddMsixCapability(new MsixCapability(2, 0, 0x8000, 0, 0x4_8000), table);

        table.WriteTable(0x10, BitConverter.GetBytes(0xFEE0_0000u));
        table.WriteTable(0x18, BitConverter.GetBytes(0x4025u));
        table.WriteTable(0x1C, BitConverter.GetBytes(0u));
        config.WriteRegister(capability / 4, 2, BitConverter.GetBytes(MsixCapability.EnableBit));

        Assert.Equal([new MsiRoute(25, new MsiMessage(0xFEE0_0000, 0x4025))], vm.Tables[^1]);

        table.WriteTable(0x1C, BitConverter.GetBytes(1u));
        Assert.Empty(vm.Tables[^1]);
    }

    [Fact]
    public void TriggeringAVectorSignalsItsIrqFd()
    {
        using var group = new MsiVectorGroup(vm, new GsiRoutingTable(vm), [40u]);

        group.Trigger(0);
        group.Trigger(0);

        Assert.Equal(2ul, group.IrqFd(0).Read());
    }

    [Fact]
    public void DisposingUnregistersTheIrqFds()
    {
        var group = new MsiVectorGroup(vm, new GsiRoutingTable(vm), [30u, 31u]);
        var fds = vm.IrqFds.ToArray();

        group.Dispose();

        Assert.Empty(vm.IrqFds);
        Assert.Equal(fds.Length, vm.Unregistered.Count);
    }

    private sealed class RecordingVm : UnsupportedVm
    {
        public List<MsiRoute[]> Tables { get; } = [];

        public List<(int Fd, uint Gsi)> IrqFds { get; } = [];

        public List<(int Fd, uint Gsi)> Unregistered { get; } = [];

        public override void SetGsiRouting(ReadOnlySpan<MsiRoute> routes) => Tables.Add(routes.ToArray());

        public override void RegisterIrqFd(int eventFd, uint gsi) => IrqFds.Add((eventFd, gsi));

        public override void UnregisterIrqFd(int eventFd, uint gsi)
        {
            IrqFds.Remove((eventFd, gsi));
            Unregistered.Add((eventFd, gsi));
        }
    }
}
