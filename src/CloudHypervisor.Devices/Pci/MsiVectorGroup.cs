using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// A device's MSI-X vectors as the hypervisor delivers them: each vector owns a GSI (from 24 up)
/// and an eventfd registered as that GSI's irqfd, so raising a vector is one eventfd write. The
/// GSI's route carries the vector's current message while the vector is unmasked and enabled.
/// </summary>
public sealed class MsiVectorGroup : IMsixRouting, IDisposable
{
    private readonly IVm vm;
    private readonly IMsiDelivery routes;
    private readonly uint[] gsis;
    private readonly EventFd[] irqFds;

    public MsiVectorGroup(IVm vm, IMsiDelivery routes, ReadOnlySpan<uint> gsis)
    {
        this.vm = vm;
        this.routes = routes;
        this.gsis = gsis.ToArray();
        irqFds = new EventFd[gsis.Length];
        try
        {
            for (var i = 0; i < irqFds.Length; i++)
            {
                irqFds[i] = new EventFd();
                vm.RegisterIrqFd(irqFds[i].Fd, this.gsis[i]);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int VectorCount => gsis.Length;

    /// <summary><paramref name="count"/> vectors with fresh GSIs from <paramref name="routing"/>.</summary>
    public static MsiVectorGroup Create(IVm vm, GsiRoutingTable routing, int count)
    {
        var gsis = new uint[count];
        for (var i = 0; i < count; i++)
        {
            gsis[i] = routing.AllocateMsiGsi();
        }

        return new MsiVectorGroup(vm, routing, gsis);
    }

    public uint Gsi(int vector) => gsis[vector];

    /// <summary>The irqfd of <paramref name="vector"/>; writing it raises the vector without a VMM round trip.</summary>
    public EventFd IrqFd(int vector) => irqFds[vector];

    public void Update(int vector, MsiMessage message, bool masked)
    {
        if (masked)
        {
            routes.RemoveRoute(gsis[vector]);
        }
        else
        {
            routes.SetRoute(gsis[vector], message);
        }
    }

    public void Disable(int vector) => routes.RemoveRoute(gsis[vector]);

    public void Trigger(int vector) => irqFds[vector].Write();

    public void Dispose()
    {
        for (var i = 0; i < irqFds.Length; i++)
        {
            if (irqFds[i] is not { } fd)
            {
                continue;
            }

            try
            {
                routes.RemoveRoute(gsis[i]);
                vm.UnregisterIrqFd(fd.Fd, gsis[i]);
            }
            catch (Exception)
            {
                // The VM may already be gone; the descriptor is closed either way.
            }

            fd.Dispose();
            irqFds[i] = null!;
        }
    }
}
