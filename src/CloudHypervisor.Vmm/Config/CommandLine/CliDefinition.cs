namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>The cloud-hypervisor command line of a default (kvm, io_uring) upstream build, in help order.</summary>
public static class CliDefinition
{
    public const string BinaryName = "cloud-hypervisor";
    public const string About = "Launch a cloud-hypervisor VMM.";
    public const string DefaultCpus = "boot=1,max_phys_bits=46";
    public const string DefaultMemory = "size=512M";
    public const string DefaultRng = "src=/dev/urandom";
    public const string DefaultLogFormat = "cloud-hypervisor: {boottime}s: <{thread}> {level}:{location} -- {msg}";

    public static readonly string[] SeccompValues = ["true", "false", "log", "errno"];

    private static ArgSpec[]? s_args;

    public static ArgSpec[] Args => s_args ??= Build();

    public static ArgSpec? FindLong(string name)
    {
        foreach (var arg in Args)
        {
            if (arg.Long == name)
            {
                return arg;
            }
        }

        return null;
    }

    public static ArgSpec? FindShort(char name)
    {
        foreach (var arg in Args)
        {
            if (arg.Short == name)
            {
                return arg;
            }
        }

        return null;
    }

    private static ArgSpec[] Build() =>
    [
        new("api-socket", "api-socket", null, ArgKind.Single, ArgGroup.VmmConfig,
            "HTTP API socket (UNIX domain socket): path=<path> or fd=<fd>."),
        new("balloon", "balloon", null, ArgKind.Single, ArgGroup.VmConfig,
            "Balloon parameters \"size=<balloon_size>,deflate_on_oom=on|off,free_page_reporting=on|off,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("cmdline", "cmdline", null, ArgKind.Single, ArgGroup.VmConfig, "Kernel command line"),
        new("console", "console", null, ArgKind.Single, ArgGroup.VmConfig,
            "Control (virtio) console: \"off|null|pty|tty|file=<path>,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\"",
            DefaultValue: "tty"),
        new("cpus", "cpus", null, ArgKind.Single, ArgGroup.VmConfig,
            "boot=<boot_vcpus>,max=<max_vcpus>,topology=<threads_per_core>:<cores_per_die>:<dies_per_package>:<packages>,kvm_hyperv=on|off,max_phys_bits=<maximum_number_of_physical_bits>,affinity=<list_of_vcpus_with_their_associated_cpuset>,features=<list_of_features_to_enable>,nested=on|off,core_scheduling=vm|vcpu|off",
            DefaultValue: DefaultCpus),
        new("debug-console", "debug-console", null, ArgKind.Single, ArgGroup.VmConfig,
            "Debug console: off|pty|tty|file=<path>,iobase=<port in hex>", DefaultValue: "off,iobase=0xe9"),
        new("device", "device", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Direct device assignment parameters \"path=<device_path>,fd=<vfio_cdev_fd>,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>,x_nv_gpudirect_clique=<clique_id>,x_exclude_mmap_bars=[<bar>...]\""),
        new("disk", "disk", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Disk parameters \"path=<disk_image_path>,readonly=on|off,direct=on|off,iommu=on|off,num_queues=<number_of_queues>,queue_size=<size_of_each_queue>,vhost_user=on|off,socket=<vhost_user_socket_path>,bw_size=<bytes>,bw_one_time_burst=<bytes>,bw_refill_time=<ms>,ops_size=<io_ops>,ops_one_time_burst=<io_ops>,ops_refill_time=<ms>,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>,rate_limit_group=<group_id>,queue_affinity=<list_of_queue_indices_with_their_associated_cpuset>,serial=<serial_number>,backing_files=on|off,sparse=on|off,image_type=<raw,qcow2,vhd,vhdx>,lock_granularity=byte-range|full"),
        new("event-monitor", "event-monitor", null, ArgKind.Single, ArgGroup.VmmConfig,
            "Path to report events on: path=<path> or fd=<fd>"),
        new("firmware", "firmware", null, ArgKind.Single, ArgGroup.VmPayload,
            "Path to firmware that is loaded in an architectural specific way"),
        new("fs", "fs", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "virtio-fs parameters \"tag=<tag_name>,socket=<socket_path>,num_queues=<number_of_queues>,queue_size=<size_of_each_queue>,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("generic-vhost-user", "generic-vhost-user", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "generic vhost-user parameters \"device_type=<ID number for virtio device type (FS, block, net, etc) or symbolic name>,socket=<socket_path>,queue_sizes=<list of queue sizes>,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("initramfs", "initramfs", null, ArgKind.Single, ArgGroup.VmConfig, "Path to initramfs image"),
        new("kernel", "kernel", null, ArgKind.Single, ArgGroup.VmPayload,
            "Path to kernel to load. This may be a kernel or firmware that supports a PVH entry point (e.g. vmlinux) or architecture equivalent"),
        new("landlock", "landlock", null, ArgKind.Flag, ArgGroup.VmConfig, "enable/disable Landlock.", DefaultValue: "false"),
        new("landlock-rules", "landlock-rules", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Landlock parameters \"path=<path/to/{file/dir}>,access=[rw]\""),
        new("log-file", "log-file", null, ArgKind.Single, ArgGroup.Logging, "Log file. Standard error is used if not specified"),
        new("log-format", "log-format", null, ArgKind.Single, ArgGroup.Logging,
            "Log line format. Tokens: {boottime} {wallclock} {glog} {localglog} {pid} {tid} {thread} {level} {levelchar} {location} {msg} {year} {month} {day} {hour} {minute} {second} {micros} {offset} (and local-prefixed variants); {{ and }} are literal braces",
            DefaultValue: DefaultLogFormat),
        new("memory", "memory", null, ArgKind.Single, ArgGroup.VmConfig,
            "Memory parameters \"size=<guest_memory_size>,mergeable=on|off,shared=on|off,hugepages=on|off,hugepage_size=<hugepage_size>,hotplug_method=acpi|virtio-mem,hotplug_size=<hotpluggable_memory_size>,hotplugged_size=<hotplugged_memory_size>,prefault=on|off,reserve=on|off,thp=on|off\"",
            DefaultValue: DefaultMemory),
        new("memory-zone", "memory-zone", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "User defined memory zone parameters \"size=<guest_memory_region_size>,file=<backing_file>,shared=on|off,hugepages=on|off,hugepage_size=<hugepage_size>,host_numa_node=<node_id>,id=<zone_identifier>,hotplug_size=<hotpluggable_memory_size>,hotplugged_size=<hotplugged_memory_size>,prefault=on|off,reserve=on|off\""),
        new("net", "net", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Network parameters \"tap=<if_name>,ip=<ip_addr>,mask=<net_mask>,mac=<mac_addr>,fd=<[fd1,fd2,...]>,iommu=on|off,num_queues=<number_of_queues>,queue_size=<size_of_each_queue>,id=<device_id>,vhost_user=<vhost_user_enable>,socket=<vhost_user_socket_path>,vhost_mode=client|server,bw_size=<bytes>,bw_one_time_burst=<bytes>,bw_refill_time=<ms>,ops_size=<io_ops>,ops_one_time_burst=<io_ops>,ops_refill_time=<ms>,pci_segment=<segment_id>,pci_device_id=<pci_slot>,offload_tso=on|off,offload_ufo=on|off,offload_csum=on|off\""),
        new("no-shutdown", "no-shutdown", null, ArgKind.Flag, ArgGroup.VmmConfig, "Do not exit the VMM when the guest shuts down"),
        new("numa", "numa", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Settings related to a given NUMA node \"guest_numa_id=<node_id>,cpus=<cpus_id>,distances=<list_of_distances_to_destination_nodes>,device_id=<device_id>,memory_zones=<list_of_memory_zones>,pci_segments=<list_of_pci_segments>\""),
        new("pci-segment", "pci-segment", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "PCI Segment parameters \"pci_segment=<segment_id>,mmio32_aperture_weight=<scale>,mmio64_aperture_weight=<scale>\""),
        new("platform", "platform", null, ArgKind.Single, ArgGroup.VmConfig,
            "Platform configuration parameters \"num_pci_segments=<num_pci_segments>,iommu_segments=<list_of_segments>,iommu_address_width=<bits>,iommufd=on|off,iommufd_fd=<fd>,vfio_p2p_dma=on|off,system_manufacturer=<dmi_system_manufacturer>,system_product_name=<dmi_system_product_name>,system_version=<dmi_system_version>,system_serial_number=<dmi_system_serial_number>,system_uuid=<dmi_system_uuid>,system_sku_number=<dmi_system_sku_number>,system_family=<dmi_system_family>,oem_strings=<list_of_strings>,chassis_asset_tag=<dmi_chassis_asset_tag>\""),
        new("pmem", "pmem", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Persistent memory parameters \"file=<backing_file_path>,size=<persistent_memory_size>,iommu=on|off,discard_writes=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("pvpanic", "pvpanic", null, ArgKind.Flag, ArgGroup.VmConfig, "Enable pvpanic device"),
        new("rate-limit-group", "rate-limit-group", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Rate Limit Group parameters \"bw_size=<bytes>,bw_one_time_burst=<bytes>,bw_refill_time=<ms>,ops_size=<io_ops>,ops_one_time_burst=<io_ops>,ops_refill_time=<ms>,id=<device_id>\""),
        new("restore", "restore", null, ArgKind.Single, ArgGroup.VmmConfig,
            "Restore from a VM snapshot. \nRestore parameters \"source_url=<source_url>,prefault=on|off,memory_restore_mode=copy|ondemand,net_fds=<list_of_net_ids_with_their_associated_fds>,vfio_fds=<list_of_vfio_ids_with_their_associated_fd>,iommufd_fd=<fd>,resume=true|false,zone_updates=<list_of_updates>\" \n`source_url` should be a valid URL (e.g file:///foo/bar or tcp://192.168.1.10/foo) \n`prefault` brings memory pages in when enabled (disabled by default) \n`net_fds` is a list of net ids with new file descriptors. Only net devices backed by FDs directly are needed as input."),
        new("rng", "rng", null, ArgKind.Single, ArgGroup.VmConfig,
            "Random number generator parameters \"src=<entropy_source_path>,iommu=on|off,pci_segment=<segment_id>,pci_device_id=<pci_slot>\"",
            DefaultValue: DefaultRng),
        new("rtc", "rtc", null, ArgKind.OptionalValue, ArgGroup.VmConfig,
            "Virtio RTC parameters \"iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\". Passing --rtc with no arguments enables the device with default settings."),
        new("seccomp", "seccomp", null, ArgKind.Single, ArgGroup.None, string.Empty, DefaultValue: "true", PossibleValues: SeccompValues),
        new("serial", "serial", null, ArgKind.Single, ArgGroup.VmConfig,
            "Control serial port: \"off|null|pty|tty|file=<path>|socket=<path>\"", DefaultValue: "null"),
        new("tpm", "tpm", null, ArgKind.Single, ArgGroup.VmConfig,
            "TPM device \"(UNIX Domain Socket from swtpm) socket=</path/to/a/socket>\""),
        new("user-device", "user-device", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "Userspace device socket=<socket_path>,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("v", null, 'v', ArgKind.Count, ArgGroup.Logging, "Sets the level of debugging output"),
        new("vdpa", "vdpa", null, ArgKind.Multiple, ArgGroup.VmConfig,
            "vDPA device \"path=<device_path>,num_queues=<number_of_queues>,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("version", "version", 'V', ArgKind.Flag, ArgGroup.None, "Print version"),
        new("vsock", "vsock", null, ArgKind.Single, ArgGroup.VmConfig,
            "Virtio VSOCK parameters \"cid=<context_id>,socket=<socket_path>,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\""),
        new("watchdog", "watchdog", null, ArgKind.Flag, ArgGroup.VmConfig, "Enable virtio-watchdog"),
        new("help", "help", 'h', ArgKind.Help, ArgGroup.None, "Print help"),
    ];
}
