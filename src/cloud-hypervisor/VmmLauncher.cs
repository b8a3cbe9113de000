using System.Runtime.InteropServices;
using CloudHypervisor.Api.Routing;
using CloudHypervisor.Api.Server;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Vmm;
using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Vmm.Control;
using CloudHypervisor.Vmm.Events;
using CloudHypervisor.Vmm.Sandbox;

namespace CloudHypervisor.Launcher;

/// <summary>
/// Runs the VMM for a parsed command line, in upstream's order: hypervisor, event monitor, the
/// VMM thread with its API server, then the command line's own VM (created and booted through
/// the same requests the API uses). Returns when the VMM thread ends.
/// </summary>
internal static class VmmLauncher
{
    public static int Run(LaunchOptions options)
    {
        IHypervisor hypervisor;
        try
        {
            hypervisor = HypervisorFactory.Create();
        }
        catch (HypervisorException e)
        {
            throw new VmmException("Failed to open hypervisor interface (is hypervisor interface available?)", e);
        }

        if (options.Seccomp != SeccompMode.Disabled)
        {
            SeccompStartup.Apply(options.Seccomp);
        }

        using (hypervisor)
        using (var monitor = OpenEventMonitor(options))
        {
            EventLog.Install(monitor);
            try
            {
                EventLog.Emit("vmm", "starting");
                return RunVmm(options, hypervisor);
            }
            finally
            {
                EventLog.Install(null);
            }
        }
    }

    private static int RunVmm(LaunchOptions options, IHypervisor hypervisor)
    {
        using var vmm = new VmmController(hypervisor, options.NoShutdown, commandLineVm: options.VmConfig is not null);
        SeccompStartup.WaitForSignalThread();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var api = StartApiServer(options, vmm);

        var sandboxed = false;
        var landlockFailed = false;
        var error = StartCommandLineVm(options, vmm, SandboxMain);
        SandboxMain();
        if (error is not null)
        {
            vmm.Fail(error);
        }
        else if (landlockFailed)
        {
            vmm.Fail(new VmmException("Failed to apply Landlock"));
        }

        var exit = vmm.WaitForExit();
        api?.Stop(removeSocketFile: exit.Error is null);
        if (exit.Error is { } failure)
        {
            throw failure;
        }

        return exit.ExitCode;

        // Main's own sandbox, entered while the VMM thread boots the command line's VM (main only waits then, so this
        // runs on the core the boot leaves idle), or at once without one; then the spawner, which until now only
        // queued filtered threads' thread requests (a vCPU activating a device).
        void SandboxMain()
        {
            if (sandboxed)
            {
                return;
            }

            sandboxed = true;

            // Before main's filter: confining the finalizer thread maps its handler's pages and installs it.
            var finalizerConfinement = options.LandlockEnable ? FinalizerThreadConfinement.Begin() : null;
            SeccompStartup.EnterMainFilter();
            landlockFailed = finalizerConfinement is not null && !(finalizerConfinement.Wait() && ServiceThreadSandbox.TryConfineCurrent("main"));
            ThreadSpawner.StartThread();
        }

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            vmm.RequestShutdown();
        }
    }

    /// <returns>The error that ends the VMM, or null when the VM booted or there was none to boot.</returns>
    /// <param name="whileBooting">Runs on this thread while the VMM thread boots the VM.</param>
    private static ChainedException? StartCommandLineVm(LaunchOptions options, VmmController vmm, Action whileBooting)
    {
        if (options.VmConfigError is ChainedException invalid)
        {
            return invalid;
        }

        if (options.VmConfig is { } config)
        {
            try
            {
                vmm.CreateVm(config, commandLine: true);
            }
            catch (ChainedException e)
            {
                return new VmmException("Error creating VM", new VmmException("The VM could not be created", e));
            }

            try
            {
                vmm.BootVm(commandLine: true, whileBooting);
            }
            catch (ChainedException e)
            {
                return new VmmException("Error booting VM", new VmmException("The VM could not boot", e));
            }
        }
        else if (options.Restore is { } restore)
        {
            try
            {
                vmm.Restore(restore);
            }
            catch (ChainedException e)
            {
                return new VmmException("Error restoring VM", new VmmException("The VM could not be restored", e));
            }
        }

        return null;
    }

    private static ApiServer? StartApiServer(LaunchOptions options, VmmController vmm)
    {
        if (options.ApiSocketPath is null && options.ApiSocketFd is null)
        {
            return null;
        }

        try
        {
            Action? confine = options.LandlockEnable ? ConfineApiThread : null;
            return ApiServer.Start(options.ApiSocketPath, options.ApiSocketFd, new ApiRouter(vmm), confine);
        }
        catch (Exception e) when (e is ChainedException or IOException)
        {
            throw new VmmException("Failed to start the VMM thread", e);
        }

        void ConfineApiThread()
        {
            if (!ServiceThreadSandbox.TryConfineCurrent("http-server"))
            {
                vmm.Fail(new VmmException("Error applying landlock"));
            }
        }
    }

    private static EventMonitor? OpenEventMonitor(LaunchOptions options)
    {
        try
        {
            Action? confine = options.LandlockEnable ? () => ServiceThreadSandbox.TryConfineCurrent("event monitor") : null;
            return options.EventMonitorFd is { } fd ? EventMonitor.OpenFd(fd, confine)
                : options.EventMonitorPath is { } path ? EventMonitor.OpenPath(path, confine)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VmmException("Error writing to the event monitor", new VmmException(e.Message));
        }
    }
}
