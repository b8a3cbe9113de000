using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// The files and directories a VM configuration names, with the access each needs, in upstream's order
/// (its <c>ApplyLandlock</c> implementations): memory zone files, disks, the rng source, vhost-user and
/// virtio-fs sockets, pmem, the consoles, VFIO groups, vfio-user sockets, vDPA, vsock, the payload, the
/// TPM socket, <c>/dev/net/tun</c> when there are network devices, then the user's <c>landlock_rules</c>.
/// </summary>
public static class LandlockRules
{
    public const string PtyDirectory = "/dev/pts", PtyMultiplexer = "/dev/ptmx", TunDevice = "/dev/net/tun",
        VfioContainer = "/dev/vfio/vfio";

    /// <exception cref="LandlockException">A rule's access is invalid, or a VFIO device path is not a link.</exception>
    public static List<LandlockRule> FromConfig(VmConfig config)
    {
        var rules = new List<LandlockRule>();
        foreach (var zone in config.Memory.Zones ?? [])
        {
            AddIf(rules, zone.File, LandlockRule.ReadWrite);
        }

        foreach (var disk in config.Disks ?? [])
        {
            AddIf(rules, disk.Path, LandlockRule.ReadWrite);
        }

        rules.Add(LandlockRule.ReadOnly(config.Rng.Src));
        foreach (var fs in config.Fs ?? [])
        {
            rules.Add(LandlockRule.ReadWrite(fs.Socket));
        }

        foreach (var device in config.GenericVhostUser ?? [])
        {
            rules.Add(LandlockRule.ReadWrite(device.Socket));
        }

        foreach (var pmem in config.Pmem ?? [])
        {
            rules.Add(pmem.DiscardWrites ? LandlockRule.ReadOnly(pmem.File) : LandlockRule.ReadWrite(pmem.File));
        }

        AddConsole(rules, config.Console.Mode, config.Console.File, config.Console.Socket);
        AddConsole(rules, config.Serial.Mode, config.Serial.File, config.Serial.Socket);
        AddConsole(rules, config.DebugConsole.Mode, config.DebugConsole.File, socket: null);
        if (config.Devices is { } devices)
        {
            rules.Add(LandlockRule.ReadWrite(VfioContainer));
            foreach (var device in devices)
            {
                AddIf(rules, VfioGroup(device.Path), LandlockRule.ReadWrite);
            }
        }

        foreach (var device in config.UserDevices ?? [])
        {
            rules.Add(LandlockRule.ReadWrite(device.Socket));
        }

        foreach (var vdpa in config.Vdpa ?? [])
        {
            rules.Add(LandlockRule.ReadWrite(vdpa.Path));
        }

        if (config.Vsock is { } vsock)
        {
            AddIf(rules, Path.GetDirectoryName(vsock.Socket), LandlockRule.WriteOnly);
            rules.Add(LandlockRule.ReadWrite(vsock.Socket));
        }

        if (config.Payload is { } payload)
        {
            AddIf(rules, payload.Firmware, LandlockRule.ReadOnly);
            AddIf(rules, payload.Kernel, LandlockRule.ReadOnly);
            AddIf(rules, payload.Initramfs, LandlockRule.ReadOnly);
            AddIf(rules, payload.Igvm, LandlockRule.ReadOnly);
        }

        if (config.Tpm is { } tpm)
        {
            rules.Add(LandlockRule.ReadWrite(tpm.Socket));
        }

        if (config.Net is not null)
        {
            rules.Add(LandlockRule.ReadWrite(TunDevice));
        }

        foreach (var rule in config.LandlockRules ?? [])
        {
            rules.Add(new LandlockRule(rule.Path, LandlockAccess.Parse(rule.Access)));
        }

        return rules;
    }

    private static void AddConsole(List<LandlockRule> rules, ConsoleMode mode, string? file, string? socket)
    {
        if (mode == ConsoleMode.Pty)
        {
            rules.Add(LandlockRule.ReadWrite(PtyDirectory));
            rules.Add(LandlockRule.ReadWrite(PtyMultiplexer));
        }

        AddIf(rules, file, LandlockRule.ReadWrite);
        if (socket is not null)
        {
            rules.Add(LandlockRule.ReadWrite(socket));

            // Unlike upstream, which binds the socket once at vm.create, this VMM binds it at every boot and
            // removes it at shutdown, so its directory must allow exactly those two operations.
            AddIf(rules, Path.GetDirectoryName(Path.GetFullPath(socket)),
                directory => new LandlockRule(directory, LandlockAccessFs.MakeSock | LandlockAccessFs.RemoveFile));
        }
    }

    /// <summary>The VFIO group device of a passed-through device: /dev/vfio/ plus the name its path links to (upstream's derivation).</summary>
    private static string? VfioGroup(string? devicePath)
    {
        if (devicePath is null)
        {
            return null; // Passed as an already open descriptor: nothing to open.
        }

        if (!File.Exists(devicePath) && !Directory.Exists(devicePath))
        {
            throw LandlockException.OpenPath(new OsException(2));
        }

        var target = new FileInfo(devicePath.TrimEnd('/')).LinkTarget ?? throw new LandlockException("Invalid path");
        var group = Path.GetFileName(target.TrimEnd('/'));
        return group.Length == 0 ? throw new LandlockException("Invalid path") : $"/dev/vfio/{group}";
    }

    private static void AddIf(List<LandlockRule> rules, string? path, Func<string, LandlockRule> rule)
    {
        if (!string.IsNullOrEmpty(path))
        {
            rules.Add(rule(path));
        }
    }
}
