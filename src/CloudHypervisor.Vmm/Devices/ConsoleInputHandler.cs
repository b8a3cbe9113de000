namespace CloudHypervisor.Vmm.Devices;

/// <summary>Receives bytes the user typed (or a client sent) for the guest.</summary>
public delegate void ConsoleInputHandler(ReadOnlySpan<byte> bytes);
