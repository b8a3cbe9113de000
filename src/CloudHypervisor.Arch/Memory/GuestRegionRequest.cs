namespace CloudHypervisor.Arch.Memory;

/// <summary>
/// One guest RAM range to map: where it sits in the guest, how it is backed, and, for a
/// file-backed zone split around the 32-bit hole, where in the file this part starts.
/// </summary>
public readonly record struct GuestRegionRequest(ulong Start, ulong Size, GuestMemoryOptions Options, ulong FileOffset = 0, string? Zone = null);
