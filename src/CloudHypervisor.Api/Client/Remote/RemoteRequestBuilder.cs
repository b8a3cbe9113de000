using System.Text;
using System.Text.Json.Serialization.Metadata;
using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config.Options;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// Turns a parsed subcommand into its API request as upstream's ch-remote does: bodies are the
/// option parsers' config objects serialized with serde_json's rules, with file descriptors taken
/// out of the config and passed over SCM_RIGHTS instead.
/// </summary>
public static class RemoteRequestBuilder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static RemoteRequest Build(RemoteInvocation invocation, IRemoteHost host)
    {
        var json = ContractsJsonContext.Default;
        switch (invocation.Command.Name)
        {
            case "boot" or "delete" or "resume" or "power-button" or "reboot" or "pause" or "shutdown" or "nmi":
                return Vm("PUT", invocation.Command.Name);
            case "info" or "counters":
                return Vm("GET", invocation.Command.Name);
            case "ping":
                return new RemoteRequest("GET", "vmm.ping", null, []);
            case "shutdown-vmm":
                return new RemoteRequest("PUT", "vmm.shutdown", null, []);
            case "resize":
                return Vm("PUT", "resize", Serialize(Resize(invocation), json.VmResize));
            case "resize-disk":
            {
                var id = Required(invocation, "disk");
                var size = Required(invocation, "size");
                var body = new VmResizeDisk { Id = id, DesiredSize = Size(size, "Invalid disk size", "InvalidDiskSize") };
                return Vm("PUT", "resize-disk", Serialize(body, json.VmResizeDisk));
            }

            case "resize-zone":
            {
                var id = Required(invocation, "id");
                var size = Required(invocation, "size");
                var body = new VmResizeZone { Id = id, DesiredRam = Size(size, "Error parsing memory size", "InvalidMemorySize") };
                return Vm("PUT", "resize-zone", Serialize(body, json.VmResizeZone));
            }

            case "add-device":
            {
                var config = Parse(DeviceOptions.ParseDevice, Required(invocation, "device_config"), "Error parsing device syntax", "AddDeviceConfig");
                int[] fds = config.Fd is { } fd ? [fd] : [];
                config.Fd = null;
                return Vm("PUT", "add-device", Serialize(config, json.DeviceConfig), fds);
            }

            case "remove-device":
                return Vm("PUT", "remove-device", Serialize(new VmRemoveDevice { Id = Required(invocation, "id") }, json.VmRemoveDevice));
            case "add-disk":
                return AddConfig(invocation, "add-disk", "disk_config", DiskOption.Parse, "Error parsing disk syntax", "AddDiskConfig", json.DiskConfig);
            case "add-fs":
                return AddConfig(invocation, "add-fs", "fs_config", DeviceOptions.ParseFs, "Error parsing filesystem syntax", "AddFsConfig", json.FsConfig);
            case "add-generic-vhost-user":
                return AddConfig(invocation, "add-generic-vhost-user", "generic_vhost_user_config", GenericVhostUserOption.Parse,
                    "Error parsing generic vhost-user syntax", "AddGenericVhostUserConfig", json.GenericVhostUserConfig);
            case "add-pmem":
                return AddConfig(invocation, "add-pmem", "pmem_config", DeviceOptions.ParsePmem, "Error parsing persistent memory syntax", "AddPmemConfig", json.PmemConfig);
            case "add-net":
            {
                var config = Parse(NetOption.Parse, Required(invocation, "net_config"), "Error parsing network syntax", "AddNetConfig");
                int[] fds = config.Fds is { } list ? [.. list] : [];
                config.Fds = null;
                return Vm("PUT", "add-net", Serialize(config, json.NetConfig), fds);
            }

            case "add-user-device":
                return AddConfig(invocation, "add-user-device", "device_config", DeviceOptions.ParseUserDevice, "Error parsing user device syntax", "AddUserDeviceConfig", json.UserDeviceConfig);
            case "add-vdpa":
                return AddConfig(invocation, "add-vdpa", "vdpa_config", DeviceOptions.ParseVdpa, "Error parsing vDPA device syntax", "AddVdpaConfig", json.VdpaConfig);
            case "add-vsock":
                return AddConfig(invocation, "add-vsock", "vsock_config", DeviceOptions.ParseVsock, "Error parsing vsock syntax", "AddVsockConfig", json.VsockConfig);
            case "snapshot":
                return Vm("PUT", "snapshot", Serialize(new VmSnapshotConfig { DestinationUrl = Required(invocation, "snapshot_config") }, json.VmSnapshotConfig));
            case "coredump":
                return Vm("PUT", "coredump", Serialize(new VmCoredumpData { DestinationUrl = Required(invocation, "coredump_config") }, json.VmCoredumpData));
            case "restore":
                return Restore(Required(invocation, "restore_config"));
            case "send-migration":
            {
                var text = Required(invocation, "send_migration_config");
                var data = Parse(
                    // Upstream's send-migration parse error reuses the receive-migration wording.
                    input => ParseMigration(MigrationOptions.ParseSend, input, "Failed to parse vm receive migration configuration", "Parse"),
                    text, "Error parsing send migration configuration", "SendMigrationConfig");
                return Vm("PUT", "send-migration", Serialize(data, json.SendMigrationData));
            }

            case "receive-migration":
                return ReceiveMigration(Required(invocation, "receive_migration_config"));
            case "create":
                return Vm("PUT", "create", Create(Required(invocation, "path"), host));
            default:
                throw new InvalidOperationException($"no request for subcommand {invocation.Command.Name}");
        }
    }

    private static RemoteRequest Vm(string method, string action, byte[]? body = null, int[]? fds = null) =>
        new(method, "vm." + action, body, fds ?? []);

    private static RemoteRequest AddConfig<T>(RemoteInvocation invocation, string action, string argument, Func<string, T> parser, string message, string variant, JsonTypeInfo<T> typeInfo) =>
        Vm("PUT", action, Serialize(Parse(parser, Required(invocation, argument), message, variant), typeInfo));

    private static VmResize Resize(RemoteInvocation invocation)
    {
        uint? vcpus = null;
        if (invocation.Value("cpus") is { } cpus)
        {
            try
            {
                vcpus = (uint)IntegerParseException.ParseUnsigned(cpus, uint.MaxValue);
            }
            catch (IntegerParseException e)
            {
                throw new RemoteCommandException("Error parsing CPU count", "InvalidCpuCount", e);
            }
        }

        return new VmResize
        {
            DesiredVcpus = vcpus,
            DesiredRam = invocation.Value("memory") is { } memory ? Size(memory, "Error parsing memory size", "InvalidMemorySize") : null,
            DesiredBalloon = invocation.Value("balloon") is { } balloon ? Size(balloon, "Error parsing balloon size", "InvalidBalloonSize") : null,
        };
    }

    private static RemoteRequest Restore(string text)
    {
        var config = Parse(RestoreOption.Parse, text, "Error parsing restore syntax", "Restore");
        var fds = new List<int>();
        foreach (var net in config.NetFds ?? [])
        {
            fds.AddRange(net.Fds ?? []);
            net.Fds = null;
        }

        foreach (var vfio in config.VfioFds ?? [])
        {
            if (vfio.Fd is { } fd)
            {
                fds.Add(fd);
            }

            vfio.Fd = null;
        }

        if (config.IommufdFd is { } iommufd)
        {
            fds.Add(iommufd);
        }

        config.IommufdFd = null;
        return Vm("PUT", "restore", Serialize(config, ContractsJsonContext.Default.RestoreConfig), [.. fds]);
    }

    private static RemoteRequest ReceiveMigration(string text)
    {
        var data = Parse(
            input => ParseMigration(MigrationOptions.ParseReceive, input, "Failed to parse vm receive migration configuration", "Parse"),
            text, "Error parsing receive migration configuration", "ReceiveMigrationConfig");
        var fds = new List<int>();
        foreach (var vfio in data.VfioFds ?? [])
        {
            if (vfio.Fd is { } fd)
            {
                fds.Add(fd);
            }

            vfio.Fd = null;
        }

        if (data.IommufdFd is { } iommufd)
        {
            fds.Add(iommufd);
        }

        data.IommufdFd = null;
        return Vm("PUT", "receive-migration", Serialize(data, ContractsJsonContext.Default.ReceiveMigrationData), [.. fds]);
    }

    /// <summary>The file (or standard input for "-") verbatim; it must be UTF-8 text, as upstream reads it into a String.</summary>
    private static byte[] Create(string path, IRemoteHost host)
    {
        var fromStdin = path == "-";
        var (message, variant) = fromStdin ? ("Error reading from stdin", "ReadingStdin") : ("Error reading from file", "ReadingFile");
        try
        {
            var data = fromStdin ? host.ReadStandardInput() : host.ReadFile(path);
            _ = StrictUtf8.GetCharCount(data);
            return data;
        }
        catch (OsException e)
        {
            throw new RemoteCommandException(message, variant, e);
        }
        catch (DecoderFallbackException)
        {
            throw new RemoteCommandException(message, variant, new IoMessageException("InvalidData", "stream did not contain valid UTF-8"));
        }
    }

    private static ulong Size(string text, string message, string variant)
    {
        try
        {
            return ByteSizeParseException.Parse(text);
        }
        catch (ByteSizeParseException e)
        {
            throw new RemoteCommandException(message, variant, e);
        }
    }

    private static T Parse<T>(Func<string, T> parser, string input, string message, string variant)
    {
        try
        {
            return parser(input);
        }
        catch (ChainedException e)
        {
            throw new RemoteCommandException(message, variant, e);
        }
    }

    private static T ParseMigration<T>(Func<string, T> parser, string input, string message, string variant)
    {
        try
        {
            return parser(input);
        }
        catch (ChainedException e)
        {
            throw new MigrationParseException(message, variant, e);
        }
    }

    /// <summary>Upstream unwraps these arguments although clap does not require them: a missing one panics.</summary>
    private static string Required(RemoteInvocation invocation, string id) =>
        invocation.Value(id) ?? throw new RemotePanicException(
            $"thread 'main' panicked: ch-remote {invocation.Command.Name}: missing argument {Display(invocation.Command, id)} " +
            "(upstream calls `Option::unwrap()` on a `None` value here)\n");

    private static string Display(RemoteCommand command, string id) =>
        Array.Find(command.Args, a => a.Id == id)?.Display.Replace('[', '<').Replace(']', '>') ?? id;

    private static byte[] Serialize<T>(T value, JsonTypeInfo<T> typeInfo) => SerdeJson.SerializeToUtf8Bytes(value, typeInfo);
}
