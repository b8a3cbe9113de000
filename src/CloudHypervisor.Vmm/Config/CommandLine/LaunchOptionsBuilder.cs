using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config.OptionParsing;
using CloudHypervisor.Vmm.Config.Options;

namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>Turns clap-level matches into <see cref="LaunchOptions"/>, with upstream's error chains.</summary>
public static class LaunchOptionsBuilder
{
    public static LaunchOptions Build(ParsedArguments args)
    {
        var (apiPath, apiFd) = ApiSocket(args.One("api-socket"));
        var (eventPath, eventFd) = EventMonitor(args.One("event-monitor"));
        bool payload = args.IsPresent("kernel") || args.IsPresent("firmware");

        Contracts.VmConfig? vmConfig = null;
        Exception? vmError = null;
        if (payload)
        {
            try
            {
                vmConfig = VmConfigBuilder.Build(VmParams(args));
            }
            catch (ChainedException e)
            {
                vmError = new CliException("Error parsing config", e);
            }
        }

        return new LaunchOptions
        {
            VmConfig = vmConfig,
            VmConfigError = vmError,
            ApiSocketPath = apiPath,
            ApiSocketFd = apiFd,
            EventMonitorPath = eventPath,
            EventMonitorFd = eventFd,
            Seccomp = args.One("seccomp") switch
            {
                "false" => SeccompMode.Disabled,
                "log" => SeccompMode.Log,
                "errno" => SeccompMode.Errno,
                _ => SeccompMode.Trap,
            },
            LandlockEnable = args.Flag("landlock"),
            NoShutdown = args.Flag("no-shutdown"),
            Restore = !payload && args.One("restore") is { } restore ? RestoreOption(restore) : null,
            Verbosity = args.Verbosity,
            LogFile = args.One("log-file"),
            LogFormat = args.One("log-format") ?? Logging.LogFormat.Default,
        };
    }

    public static VmParams VmParams(ParsedArguments args) => new()
    {
        Cpus = args.One("cpus")!,
        Memory = args.One("memory")!,
        MemoryZones = args.Many("memory-zone"),
        Firmware = args.One("firmware"),
        Kernel = args.One("kernel"),
        Initramfs = args.One("initramfs"),
        Cmdline = args.One("cmdline"),
        RateLimitGroups = args.Many("rate-limit-group"),
        Disks = args.Many("disk"),
        Net = args.Many("net"),
        Rng = args.One("rng")!,
        Balloon = args.One("balloon"),
        Fs = args.Many("fs"),
        GenericVhostUser = args.Many("generic-vhost-user"),
        Pmem = args.Many("pmem"),
        Serial = args.One("serial")!,
        Console = args.One("console")!,
        DebugConsole = args.One("debug-console")!,
        Devices = args.Many("device"),
        UserDevices = args.Many("user-device"),
        Vdpa = args.Many("vdpa"),
        Vsock = args.One("vsock"),
        Pvpanic = args.Flag("pvpanic"),
        Numa = args.Many("numa"),
        Watchdog = args.Flag("watchdog"),
        Rtc = args.IsPresent("rtc") ? args.One("rtc") ?? string.Empty : null,
        PciSegments = args.Many("pci-segment"),
        Platform = args.One("platform"),
        Tpm = args.One("tpm"),
        LandlockEnable = args.Flag("landlock"),
        LandlockRules = args.Many("landlock-rules"),
    };

    /// <summary>path=&lt;p&gt; or fd=&lt;n&gt;; input that does not parse as options is taken whole as the path.</summary>
    public static (string? Path, int? Fd) ApiSocket(string? value)
    {
        if (value is null)
        {
            return (null, null);
        }

        var parser = new OptionParser("path", "fd");
        try
        {
            parser.Parse(value);
        }
        catch (OptionParserException)
        {
            // Upstream ignores the parse error and keeps whatever keys were read before it.
        }

        if (parser.Get("fd") is { } fd)
        {
            return RustInteger.TryParseSigned(fd, int.MinValue, int.MaxValue, out long n)
                ? (null, (int)n)
                : throw new CliException("Error parsing --api-socket", new CliException(ParseIntError(fd)));
        }

        return (parser.Get("path") ?? value, null);
    }

    public static (string? Path, int? Fd) EventMonitor(string? value)
    {
        if (value is null)
        {
            return (null, null);
        }

        var parser = new OptionParser("path", "fd");
        try
        {
            parser.Parse(value);
            int? fd = parser.I32("fd");
            string? path = parser.Get("path");
            return fd is null && path is null
                ? throw new CliException("Error parsing --event-monitor: path or fd required")
                : (fd is null ? path : null, fd);
        }
        catch (OptionParserException e)
        {
            throw new CliException("Error parsing --event-monitor", e);
        }
    }

    private static Contracts.RestoreConfig RestoreOption(string value) => Options.RestoreOption.Parse(value);

    /// <summary>Rust's ParseIntError text for an i32.</summary>
    private static string ParseIntError(string text)
    {
        if (text.Length == 0)
        {
            return "cannot parse integer from empty string";
        }

        string digits = text[0] is '+' or '-' ? text[1..] : text;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit))
        {
            return "invalid digit found in string";
        }

        return text[0] == '-' ? "number too small to fit in target type" : "number too large to fit in target type";
    }
}

/// <summary>A top-level error of the cloud-hypervisor binary (upstream's main Error enum).</summary>
public sealed class CliException : ChainedException
{
    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
