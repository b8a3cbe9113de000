namespace CloudHypervisor.Devices.Pci;

/// <summary>How upstream divides an MMIO area between PCI segments by aperture weight.</summary>
public static class PciMmioWindows
{
    /// <summary>Granularity of each segment's share of the 32-bit area.</summary>
    public const ulong Mmio32Granularity = 4UL << 10;

    /// <summary>Granularity of each segment's share of the 64-bit device area.</summary>
    public const ulong Mmio64Granularity = 4UL << 30;

    /// <summary>
    /// One allocator per segment over [<paramref name="start"/>, <paramref name="end"/>]: a unit of
    /// (end − start + 1) / (granularity · Σweights) rounded down to the granularity, and segment i gets
    /// weight_i units, back to back. Upstream passes the 32-bit area's end exclusive and the device
    /// area's end inclusive; the rounding makes the difference vanish for the former.
    /// </summary>
    public static PciMmioAllocator[] Split(ulong start, ulong end, ReadOnlySpan<uint> weights, ulong granularity)
    {
        ulong totalWeight = 0;
        foreach (var weight in weights)
        {
            totalWeight += weight;
        }

        if (end < start || totalWeight == 0)
        {
            throw new PciException($"Invalid PCI MMIO area 0x{start:x}-0x{end:x}");
        }

        var unit = (end - start + 1) / (granularity * totalWeight) * granularity;
        if (unit == 0)
        {
            throw new PciException($"PCI MMIO area 0x{start:x}-0x{end:x} too small for {weights.Length} segments");
        }

        var windows = new PciMmioAllocator[weights.Length];
        ulong unitsBefore = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            windows[i] = new PciMmioAllocator(start + unitsBefore * unit, unit * weights[i]);
            unitsBefore += weights[i];
        }

        return windows;
    }
}
