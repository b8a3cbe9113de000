namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>Paths of the guest kit images (test_data/guests, built into build/guests).</summary>
public static class GuestImages
{
    public const string Hello = "hello";
    public const string Acpi = "acpi";
    public const string Pci = "pci";
    public const string Halt = "halt";
    public const string IoBench = "iobench";
    public const string HelloBzImage = "hello-bzimage";

    /// <summary>Prints each NMI and powers off on the ACPI GED power button (Cloud Hypervisor's GED).</summary>
    public const string Events = "events";

    /// <summary>Starts every enabled application processor from the MADT with INIT-SIPI-SIPI and counts them online.</summary>
    public const string Smp = "smp";

    /// <summary>Polling virtio-pci modern drivers: lists the devices, reads rng bytes, reads/writes/flushes a virtio-blk disk.</summary>
    public const string Virtio = "virtio";

    /// <summary>The benchmark drivers (scripts/bench): many virtio-blk requests or net frames in flight, from ring 3.</summary>
    public const string Vbench = "vbench";

    /// <summary>Polling virtio-balloon driver: follows the host's targets, inflating and deflating pages it marked.</summary>
    public const string Balloon = "balloon";

    /// <summary>Polling virtio-vsock driver: connects to a host port (`connect=P`) and/or accepts and echoes on a guest port (`listen=Q`).</summary>
    public const string Vsock = "vsock";

    /// <summary>Multi-queue virtio-net: MQ negotiation, VQ_PAIRS_SET on the control queue, frames sent on the second pair.</summary>
    public const string NetMq = "net-mq";

    /// <summary>ACPI PCI hotplug from the guest side: on the GED's PCI bit it reads PHPR, drives an added virtio-blk, ejects removed slots.</summary>
    public const string Hotplug = "hotplug";

    /// <summary>The raw KVM port-I/O baseline program (test_data/kvm-harness), a host executable.</summary>
    public const string KvmPortIo = "kvm-portio";

    /// <summary>The image's path; throws when it has not been built.</summary>
    public static string PathOf(string name)
    {
        var path = Path.Combine(RepoPaths.Guests, name);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Guest image '{name}' not found at {path}: run scripts/build-guests.sh", path);
        return path;
    }
}
