namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// The kinds of thread the VMM runs, each with its own seccomp filter (upstream's vmm and virtio-devices
/// <c>Thread</c> enums). <see cref="Spawner"/> is ours: the thread that creates threads for filtered threads that may not.
/// </summary>
public enum SeccompThreadKind
{
    Vmm,
    HttpApi,
    Vcpu,
    SignalHandler,
    EventMonitor,
    SerialManager,
    VirtioBlock,
    VirtioConsole,
    VirtioNet,
    VirtioPmem,
    VirtioRng,
    VirtioWatchdog,
    VirtioBalloon,
    VirtioVsock,
    Spawner,
}

public static class SeccompThreadKindNames
{
    /// <summary>How many kinds there are (Enum.GetValues costs 40 us on its first call, on the start-up path).</summary>
    public const int Count = (int)SeccompThreadKind.Spawner + 1;

    /// <summary>The kind as log lines name it ("vcpu", "virtio-block").</summary>
    public static string Text(this SeccompThreadKind kind) => kind switch
    {
        SeccompThreadKind.Vmm => "vmm",
        SeccompThreadKind.HttpApi => "http-api",
        SeccompThreadKind.Vcpu => "vcpu",
        SeccompThreadKind.SignalHandler => "signal-handler",
        SeccompThreadKind.EventMonitor => "event-monitor",
        SeccompThreadKind.SerialManager => "serial-manager",
        SeccompThreadKind.VirtioBlock => "virtio-block",
        SeccompThreadKind.VirtioConsole => "virtio-console",
        SeccompThreadKind.VirtioNet => "virtio-net",
        SeccompThreadKind.VirtioPmem => "virtio-pmem",
        SeccompThreadKind.VirtioRng => "virtio-rng",
        SeccompThreadKind.VirtioWatchdog => "virtio-watchdog",
        SeccompThreadKind.VirtioBalloon => "virtio-balloon",
        SeccompThreadKind.VirtioVsock => "virtio-vsock",
        SeccompThreadKind.Spawner => "spawner",
        _ => "unknown",
    };
}
