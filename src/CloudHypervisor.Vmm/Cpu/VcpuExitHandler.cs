using CloudHypervisor.Devices;
using CloudHypervisor.Devices.Interrupts;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Vmm.Cpu;

/// <summary>Routes port and MMIO exits to the buses and EOIs to the interrupt controller. Runs on vCPU threads; allocates nothing.</summary>
public sealed class VcpuExitHandler
{
    private readonly Bus ioBus;
    private readonly Bus mmioBus;
    private readonly IInterruptController? interruptController;

    public VcpuExitHandler(Bus ioBus, Bus mmioBus, IInterruptController? interruptController = null)
    {
        this.ioBus = ioBus;
        this.mmioBus = mmioBus;
        this.interruptController = interruptController;
    }

    public void HandleIo(in VmExit exit) => Dispatch(ioBus, exit);

    public void HandleMmio(in VmExit exit) => Dispatch(mmioBus, exit);

    /// <summary>The guest EOI'd a level-triggered vector the userspace IOAPIC delivered; the exit's address is the vector.</summary>
    public void HandleIoapicEoi(in VmExit exit) => interruptController?.EndOfInterrupt((byte)exit.Address);

    private static void Dispatch(Bus bus, in VmExit exit)
    {
        var elementSize = Math.Max(1, exit.ElementSize);
        // String I/O (rep ins/outs) arrives as count elements back to back.
        var data = exit.Data;
        for (var offset = 0; offset + elementSize <= data.Length; offset += elementSize)
        {
            var element = data.Slice(offset, elementSize);
            if (exit.IsWrite)
            {
                bus.Write(exit.Address, element);
            }
            else if (!bus.Read(exit.Address, element))
            {
                element.Fill(0xFF); // nothing decodes this address: the bus floats high
            }
        }
    }
}
