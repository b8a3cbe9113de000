namespace CloudHypervisor.Devices.Interrupts;

/// <summary>The guest's legacy interrupt controller (the IOAPIC on x86): pins for devices, EOIs from vCPUs.</summary>
public interface IInterruptController
{
    int PinCount { get; }

    /// <summary>The line a device raises to interrupt through pin <paramref name="pin"/>.</summary>
    IInterruptLine Pin(int pin);

    /// <summary>The guest acknowledged a level-triggered interrupt with <paramref name="vector"/>.</summary>
    void EndOfInterrupt(byte vector);
}
