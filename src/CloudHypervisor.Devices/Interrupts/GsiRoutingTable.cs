using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Devices.Interrupts;

/// <summary>
/// The VM's GSI routing table, kept whole because the hypervisor only accepts it whole: GSIs below
/// <see cref="FirstMsiGsi"/> are the IOAPIC pins, the rest are handed out to MSI/MSI-X vectors.
/// </summary>
public sealed class GsiRoutingTable : IMsiDelivery
{
    public const uint FirstMsiGsi = 24;

    private readonly IVm vm;
    private readonly object gate = new();
    private readonly SortedDictionary<uint, MsiMessage> routes = [];
    private uint nextMsiGsi = FirstMsiGsi;

    public GsiRoutingTable(IVm vm)
    {
        this.vm = vm;
    }

    /// <summary>A GSI of its own for one MSI or MSI-X vector.</summary>
    public uint AllocateMsiGsi()
    {
        lock (gate)
        {
            return nextMsiGsi++;
        }
    }

    public void SetRoute(uint gsi, MsiMessage message)
    {
        lock (gate)
        {
            if (routes.TryGetValue(gsi, out var current) && current == message)
            {
                return;
            }

            routes[gsi] = message;
            Commit();
        }
    }

    public void RemoveRoute(uint gsi)
    {
        lock (gate)
        {
            if (routes.Remove(gsi))
            {
                Commit();
            }
        }
    }

    public void Send(MsiMessage message) => vm.SignalMsi(message);

    private void Commit()
    {
        var table = new MsiRoute[routes.Count];
        var i = 0;
        foreach (var (gsi, message) in routes)
        {
            table[i++] = new MsiRoute(gsi, message);
        }

        vm.SetGsiRouting(table);
    }
}
