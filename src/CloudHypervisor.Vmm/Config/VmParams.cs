namespace CloudHypervisor.Vmm.Config;

/// <summary>The raw option strings of a command line that describe the VM (upstream's VmParams).</summary>
public sealed class VmParams
{
    public string Cpus { get; init; } = "boot=1,max_phys_bits=46";
    public string Memory { get; init; } = "size=512M";
    public IReadOnlyList<string>? MemoryZones { get; init; }
    public string? Firmware { get; init; }
    public string? Kernel { get; init; }
    public string? Initramfs { get; init; }
    public string? Cmdline { get; init; }
    public IReadOnlyList<string>? RateLimitGroups { get; init; }
    public IReadOnlyList<string>? Disks { get; init; }
    public IReadOnlyList<string>? Net { get; init; }
    public string Rng { get; init; } = "src=/dev/urandom";
    public string? Balloon { get; init; }
    public IReadOnlyList<string>? Fs { get; init; }
    public IReadOnlyList<string>? GenericVhostUser { get; init; }
    public IReadOnlyList<string>? Pmem { get; init; }
    public string Serial { get; init; } = "null";
    public string Console { get; init; } = "tty";
    public string DebugConsole { get; init; } = "off,iobase=0xe9";
    public IReadOnlyList<string>? Devices { get; init; }
    public IReadOnlyList<string>? UserDevices { get; init; }
    public IReadOnlyList<string>? Vdpa { get; init; }
    public string? Vsock { get; init; }
    public bool Pvpanic { get; init; }
    public IReadOnlyList<string>? Numa { get; init; }
    public bool Watchdog { get; init; }
    public string? Rtc { get; init; }
    public IReadOnlyList<string>? PciSegments { get; init; }
    public string? Platform { get; init; }
    public string? Tpm { get; init; }
    public bool LandlockEnable { get; init; }
    public IReadOnlyList<string>? LandlockRules { get; init; }
}
