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
                return RunVmm(options, hypervisor, monitor);
            }
            finally
            {
                EventLog.Install(null);
            }
        }
    }

    private static int RunVmm(LaunchOptions options, IHypervisor hypervisor, EventMonitor? monitor)
    {
        using var vmm = new VmmController(hypervisor, options.NoShutdown, commandLineVm: options.VmConfig is not null);

        // The VMM thread creates the command line's VM (its Landlock ruleset included) while main binds the API socket.
        var creating = options is { VmConfigError: null, VmConfig: { } config } ? vmm.BeginCreateVm(config, commandLine: true) : null;
        using var api = OpenApiServerAfter(creating, options, vmm);
        PosixSignalRegistration? sigterm = null, sigint = null;
        var landlockFailed = false;
        try
        {
            var error = StartCommandLineVm(options, vmm, creating);
            StartServices();
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
        }
        finally
        {
            sigint?.Dispose();
            sigterm?.Dispose();
        }

        // What the VMM needs running but the command line's VM does not need to boot, started once it has booted (or
        // at once without one), so that none of it competes with the boot for the host's cores: the signal handlers,
        // the event monitor's writer and the API server's thread (the socket already accepts connections, which queue
        // until then), main's own sandbox, the spawner (until now it only queued filtered threads' thread requests,
        // a vCPU activating a device) and the VMM thread's filter. Threads start before main's filter and Landlock
        // domain, which they would otherwise inherit.
        void StartServices()
        {
            SeccompStartup.StartSignalThread();
            monitor?.StartWriter();
            api?.Start();
            SeccompStartup.WaitForSignalThread();
            sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

            // Before main's filter: confining the finalizer thread maps its handler's pages and installs it.
            var finalizerConfinement = options.LandlockEnable ? FinalizerThreadConfinement.Begin() : null;
            SeccompStartup.EnterMainFilter();
            landlockFailed = finalizerConfinement is not null && !(finalizerConfinement.Wait() && ServiceThreadSandbox.TryConfineCurrent("main"));
            ThreadSpawner.StartThread();
            vmm.FilterVmmThread();
        }

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            vmm.RequestShutdown();
        }
    }

    /// <returns>The error that ends the VMM, or null when the VM booted or there was none to boot.</returns>
    /// <param name="creating">The command line's VM creation, already queued.</param>
    private static ChainedException? StartCommandLineVm(LaunchOptions options, VmmController vmm, PendingCall? creating)
    {
        if (options.VmConfigError is ChainedException invalid)
        {
            return invalid;
        }

        if (creating is not null)
        {
            try
            {
                creating.Wait();
            }
            catch (ChainedException e)
            {
                return new VmmException("Error creating VM", new VmmException("The VM could not be created", e));
            }

            try
            {
                vmm.BootVm(commandLine: true);
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

    /// <summary>Binds the API socket; if that fails, the VM creation under way is let finish before the error leaves.</summary>
    private static ApiServer? OpenApiServerAfter(PendingCall? creating, LaunchOptions options, VmmController vmm)
    {
        try
        {
            return OpenApiServer(options, vmm);
        }
        catch (VmmException) when (creating is not null)
        {
            try
            {
                creating.Wait();
            }
            catch (ChainedException)
            {
                // The API socket's error is the one reported, as when the VM creation had not started.
            }

            throw;
        }
    }

    /// <summary>Binds the API socket; its thread starts later (<see cref="ApiServer.Start"/>).</summary>
    private static ApiServer? OpenApiServer(LaunchOptions options, VmmController vmm)
    {
        if (options.ApiSocketPath is null && options.ApiSocketFd is null)
        {
            return null;
        }

        try
        {
            Action? confine = options.LandlockEnable ? ConfineApiThread : null;
            return ApiServer.Open(options.ApiSocketPath, options.ApiSocketFd, new ApiRouter(vmm), confine);
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
