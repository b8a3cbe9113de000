namespace CloudHypervisor.Devices.Virtio;

/// <summary>How a device interrupts its driver: a used-buffer notification per queue, or a configuration change.</summary>
public interface IVirtioInterrupt
{
    void SignalQueue(int queueIndex);

    void SignalConfigChange();
}
