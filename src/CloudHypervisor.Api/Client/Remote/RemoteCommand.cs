using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Vmm.Config.Options;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>One argument of a ch-remote subcommand: a positional (no <see cref="Long"/>) or a "--long &lt;value&gt;" option.</summary>
public sealed record RemoteArg(string Id, string? Long, string Help, bool Required = false, string? DefaultValue = null)
{
    public bool IsPositional => Long is null;

    /// <summary>How clap names the argument: "[disk_config]", "&lt;restore_config&gt;", "--cpus &lt;cpus&gt;".</summary>
    public string Display => Long is not null ? $"--{Long} <{Id}>" : Required ? $"<{Id}>" : $"[{Id}]";
}

/// <summary>A ch-remote subcommand as upstream declares it to clap (about text and arguments, in help order).</summary>
public sealed record RemoteCommand(string Name, string About, params RemoteArg[] Args)
{
    public RemoteArg? Positional => Array.Find(Args, a => a.IsPositional);

    public RemoteArg? FindLong(string name) => Array.Find(Args, a => a.Long == name);
}

/// <summary>The ch-remote command line of a default upstream build (no D-Bus), subcommands in help order.</summary>
public static class RemoteCommands
{
    public const string BinaryName = "ch-remote";
    public const string About = "Remotely control a cloud-hypervisor VMM.";
    public const string Version = "v54.0.0";

    public static readonly RemoteArg ApiSocket = new("api-socket", "api-socket", "HTTP API socket path (UNIX domain socket).");

    private static RemoteCommand[]? s_all;

    public static IReadOnlyList<RemoteCommand> All => s_all ??= Build();

    public static RemoteCommand? Find(string name) => Array.Find(s_all ??= Build(), c => c.Name == name);

    /// <summary>The clap "help" subcommand upstream gets automatically.</summary>
    public static RemoteCommand Help { get; } =
        new("help", "Print this message or the help of the given subcommand(s)", new RemoteArg("COMMAND", null, "Print help for the subcommand(s)"));

    private static RemoteCommand[] Build() =>
    [
        new("add-device", "Add VFIO device", Config("device_config", "device")),
        new("add-disk", "Add block device", Config("disk_config", "disk")),
        new("add-fs", "Add virtio-fs backed fs device", Config("fs_config", "fs")),
        new("add-generic-vhost-user", "Add generic vhost-user device", Config("generic_vhost_user_config", "generic-vhost-user")),
        new("add-net", "Add network device", Config("net_config", "net")),
        new("add-pmem", "Add persistent memory device", Config("pmem_config", "pmem")),
        new("add-user-device", "Add userspace device", Config("device_config", "user-device")),
        new("add-vdpa", "Add vDPA device", Config("vdpa_config", "vdpa")),
        new("add-vsock", "Add vsock device", Config("vsock_config", "vsock")),
        new("boot", "Boot a created VM"),
        new("coredump", "Create a coredump from VM", new RemoteArg("coredump_config", null, "<file_path>")),
        new("counters", "Counters from the VM"),
        new("create", "Create VM from a JSON configuration", new RemoteArg("path", null, string.Empty, DefaultValue: "-")),
        new("delete", "Delete a VM"),
        new("info", "Info on the VM"),
        new("nmi", "Trigger NMI"),
        new("pause", "Pause the VM"),
        new("ping", "Ping the VMM to check for API server availability"),
        new("power-button", "Trigger a power button in the VM"),
        new("reboot", "Reboot the VM"),
        new("receive-migration", "Receive a VM migration", new RemoteArg("receive_migration_config", null, MigrationOptions.ReceiveSyntax)),
        new("remove-device", "Remove VFIO and PCI device", new RemoteArg("id", null, "<device_id>")),
        new("resize", "Resize the VM",
            new RemoteArg("balloon", "balloon", "New balloon size in bytes (supports K/M/G suffix)"),
            new RemoteArg("cpus", "cpus", "New vCPUs count"),
            new RemoteArg("memory", "memory", "New memory size in bytes (supports K/M/G suffix)")),
        new("resize-disk", "Resize an attached disk",
            new RemoteArg("disk", "disk", "Disk identifier"),
            new RemoteArg("size", "size", "New disk size")),
        new("resize-zone", "Resize a memory zone",
            new RemoteArg("id", "id", "Memory zone identifier"),
            new RemoteArg("size", "size", "New memory zone size in bytes (supports K/M/G suffix)")),
        new("restore", "Restore VM from a snapshot", new RemoteArg("restore_config", null, RestoreSyntax(), Required: true)),
        new("resume", "Resume the VM"),
        new("send-migration", "Initiate a VM migration", new RemoteArg("send_migration_config", null, MigrationOptions.SendSyntax)),
        new("shutdown", "Shutdown the VM"),
        new("shutdown-vmm", "Shutdown the VMM"),
        new("snapshot", "Create a snapshot from VM", new RemoteArg("snapshot_config", null, "<destination_url>", Required: true)),
    ];

    /// <summary>The positional of an add-* command, whose help is the matching cloud-hypervisor option's syntax.</summary>
    private static RemoteArg Config(string id, string option) => new(id, null, CliDefinition.FindLong(option)?.Help ?? string.Empty);

    // cloud-hypervisor's --restore help is "Restore from a VM snapshot. " followed by the restore syntax.
    private static string RestoreSyntax()
    {
        const string prefix = "Restore from a VM snapshot. \n";
        var help = CliDefinition.FindLong("restore")?.Help ?? string.Empty;
        return help.StartsWith(prefix, StringComparison.Ordinal) ? help[prefix.Length..] : help;
    }
}
