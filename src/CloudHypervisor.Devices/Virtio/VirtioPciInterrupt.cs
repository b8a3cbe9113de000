using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// Delivers a device's interrupts through the MSI-X vector the driver chose for the queue or for
/// configuration changes. Without MSI-X enabled only the ISR bits record the event (upstream offers no INTx).
/// </summary>
internal sealed class VirtioPciInterrupt : IVirtioInterrupt
{
    public const int IsrQueue = 1;
    public const int IsrConfig = 2;

    private readonly VirtioPciCommonConfig common;
    private readonly MsixTable msix;
    private int isr;

    public VirtioPciInterrupt(VirtioPciCommonConfig common, MsixTable msix)
    {
        this.common = common;
        this.msix = msix;
    }

    /// <summary>Reads and clears the ISR status byte.</summary>
    public byte TakeIsr() => (byte)Interlocked.Exchange(ref isr, 0);

    public void ClearIsr(byte bits) => Interlocked.And(ref isr, ~bits);

    public void SignalQueue(int queueIndex) => Signal(common.QueueVector(queueIndex), IsrQueue);

    public void SignalConfigChange()
    {
        common.BumpGeneration();
        Signal(common.ConfigVector, IsrConfig);
    }

    private void Signal(ushort vector, int isrBit)
    {
        if (!msix.Enabled)
        {
            Interlocked.Or(ref isr, isrBit);
            return;
        }

        if (vector != VirtioPciLayout.NoVector && vector < msix.VectorCount)
        {
            msix.Signal(vector);
        }
    }
}
