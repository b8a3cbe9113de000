using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Logging;

namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>What the seccomp filter does on a disallowed syscall (--seccomp).</summary>
public enum SeccompMode
{
    /// <summary>"true": trap (SIGSYS handler, then the process dies).</summary>
    Trap,

    /// <summary>"false": no filter.</summary>
    Disabled,

    /// <summary>"log": allow but log.</summary>
    Log,

    /// <summary>"errno": fail the syscall with EPERM.</summary>
    Errno,
}

/// <summary>Everything the command line decides about one cloud-hypervisor process.</summary>
public sealed class LaunchOptions
{
    /// <summary>The validated VM configuration, or null when neither --kernel nor --firmware was given.</summary>
    public VmConfig? VmConfig { get; init; }

    /// <summary>The error building <see cref="VmConfig"/> raised; upstream reports it only after the API socket exists.</summary>
    public Exception? VmConfigError { get; init; }

    public string? ApiSocketPath { get; init; }

    public int? ApiSocketFd { get; init; }

    public string? EventMonitorPath { get; init; }

    public int? EventMonitorFd { get; init; }

    public SeccompMode Seccomp { get; init; } = SeccompMode.Trap;

    public bool LandlockEnable { get; init; }

    public bool NoShutdown { get; init; }

    /// <summary>--restore, used only when there is no payload.</summary>
    public RestoreConfig? Restore { get; init; }

    public int Verbosity { get; init; }

    public LogLevel LogLevel => LogLevels.FromVerbosity(Verbosity);

    public string? LogFile { get; init; }

    public string LogFormat { get; init; } = Logging.LogFormat.Default;
}
