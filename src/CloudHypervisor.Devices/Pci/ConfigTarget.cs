namespace CloudHypervisor.Devices.Pci;

/// <summary>A decoded configuration address: which function and which dword register.</summary>
internal readonly record struct ConfigTarget(int Bus, int Device, int Function, int Register);
