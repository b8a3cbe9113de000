using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;
using static CloudHypervisor.Hypervisor.Kvm.KvmHypervisor;

namespace CloudHypervisor.Hypervisor.Kvm;

internal sealed class KvmVm : IVm
{
    private const uint IoEventFdFlagDataMatch = 1, IoEventFdFlagPio = 2, IoEventFdFlagDeassign = 4;
    private readonly KvmHypervisor hypervisor;
    private readonly SafeFd vm;

    public KvmVm(KvmHypervisor hypervisor, SafeFd vm)
    {
        this.hypervisor = hypervisor;
        this.vm = vm;
        var khz = Libc.Ioctl(vm.Fd, KvmIoctls.GetTscKhz, 0);
        TscKhz = khz > 0 ? (uint)khz : 0;
    }

    public uint TscKhz { get; }

    public unsafe void SetUserMemoryRegion(uint slot, ulong guestAddress, ulong size, nint hostAddress, bool readOnly)
    {
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            Flags = readOnly ? 2u : 0u,
            GuestPhysAddr = guestAddress,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        };
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.SetUserMemoryRegion, &region), "KVM_SET_USER_MEMORY_REGION");
    }

    public void EnableSplitIrqChip(uint ioapicPins) => EnableCap(KvmCap.SplitIrqchip, ioapicPins);

    public void EnableX2ApicApi()
    {
        const ulong use32BitIds = 1, disableBroadcastQuirk = 2;
        EnableCap(KvmCap.X2ApicApi, use32BitIds | disableBroadcastQuirk);
    }

    public void SetTssAddress(ulong address) =>
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.SetTssAddr, address), "KVM_SET_TSS_ADDR");

    public unsafe void SetIdentityMapAddress(ulong address) =>
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.SetIdentityMapAddr, &address), "KVM_SET_IDENTITY_MAP_ADDR");

    public IVcpu CreateVcpu(int id)
    {
        var fd = SafeFd.FromResult(Check(Libc.Ioctl(vm.Fd, KvmIoctls.CreateVcpu, (ulong)id), "KVM_CREATE_VCPU"));
        return new KvmVcpu(id, fd, hypervisor.VcpuMmapSize);
    }

    public unsafe void SignalMsi(MsiMessage message)
    {
        var msi = new KvmMsi { AddressLo = (uint)message.Address, AddressHi = (uint)(message.Address >> 32), Data = message.Data };
        // 0 means no vCPU accepted it (e.g. no APIC matches the destination): not an error.
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.SignalMsi, &msi), "KVM_SIGNAL_MSI");
    }

    public unsafe void RegisterIrqFd(int eventFd, uint gsi)
    {
        var irqfd = new KvmIrqFd { Fd = (uint)eventFd, Gsi = gsi };
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.IrqFd, &irqfd), "KVM_IRQFD");
    }

    public unsafe void UnregisterIrqFd(int eventFd, uint gsi)
    {
        var irqfd = new KvmIrqFd { Fd = (uint)eventFd, Gsi = gsi, Flags = KvmIrq.IrqFdDeassign };
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.IrqFd, &irqfd), "KVM_IRQFD");
    }

    public unsafe void SetGsiRouting(ReadOnlySpan<MsiRoute> routes)
    {
        // A table rewrite happens when the guest programs an interrupt source, not per interrupt.
        var size = sizeof(KvmIrqRoutingHeader) + (routes.Length * sizeof(KvmIrqRoutingEntry));
        var buffer = new byte[size];
        fixed (byte* start = buffer)
        {
            ((KvmIrqRoutingHeader*)start)->Nr = (uint)routes.Length;
            var entries = (KvmIrqRoutingEntry*)(start + sizeof(KvmIrqRoutingHeader));
            for (var i = 0; i < routes.Length; i++)
            {
                var message = routes[i].Message;
                entries[i].Gsi = routes[i].Gsi;
                entries[i].Type = KvmIrq.RoutingMsi;
                entries[i].AddressLo = (uint)message.Address;
                entries[i].AddressHi = (uint)(message.Address >> 32);
                entries[i].Data = message.Data;
            }

            Check(Libc.Ioctl(vm.Fd, KvmIoctls.SetGsiRouting, start), "KVM_SET_GSI_ROUTING");
        }
    }

    public void RegisterIoEventFd(int eventFd, ulong address, bool isPio, uint length, ulong? dataMatch) =>
        IoEventFd(eventFd, address, isPio, length, dataMatch, 0);

    public void UnregisterIoEventFd(int eventFd, ulong address, bool isPio, uint length, ulong? dataMatch) =>
        IoEventFd(eventFd, address, isPio, length, dataMatch, IoEventFdFlagDeassign);

    private unsafe void IoEventFd(int eventFd, ulong address, bool isPio, uint length, ulong? dataMatch, uint extraFlags)
    {
        var ioeventfd = new KvmIoEventFd
        {
            Addr = address,
            Len = length,
            Fd = eventFd,
            Flags = (isPio ? IoEventFdFlagPio : 0) | (dataMatch.HasValue ? IoEventFdFlagDataMatch : 0) | extraFlags,
            Datamatch = dataMatch ?? 0,
        };
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.IoEventFd, &ioeventfd), "KVM_IOEVENTFD");
    }

    public void Dispose() => vm.Dispose();

    private unsafe void EnableCap(uint cap, ulong arg0)
    {
        var enable = new KvmEnableCap { Cap = cap };
        enable.Args[0] = arg0;
        Check(Libc.Ioctl(vm.Fd, KvmIoctls.EnableCap, &enable), $"KVM_ENABLE_CAP({cap})");
    }
}
