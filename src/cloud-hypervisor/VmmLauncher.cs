using System.Runtime.InteropServices;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm;
using CloudHypervisor.Vmm.Config.CommandLine;
using CloudHypervisor.Vmm.Vm;

namespace CloudHypervisor.Launcher;

/// <summary>
/// Runs the VMM for a parsed command line: opens the hypervisor, then boots the payload (rebooting
/// in place when the guest resets) or waits, and maps the outcome to upstream's exit codes.
/// </summary>
internal static class VmmLauncher
{
    private static readonly ManualResetEventSlim Terminate = new();

    public static int Run(LaunchOptions options)
    {
        Libc.Umask(0b000_111_111);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnTerminate);

        IHypervisor hypervisor;
        try
        {
            hypervisor = HypervisorFactory.Create();
        }
        catch (HypervisorException e)
        {
            throw new VmmException("Failed to open hypervisor interface (is hypervisor interface available?)", e);
        }

        using (hypervisor)
        {
            if (options.ApiSocketPath is not null || options.ApiSocketFd is not null)
            {
                throw new VmmException("Failed to start the VMM thread", VmmException.NotSupportedYet("the HTTP API (--api-socket)"));
            }

            if (options.EventMonitorPath is not null || options.EventMonitorFd is not null)
            {
                throw new VmmException("Failed to start the VMM thread", VmmException.NotSupportedYet("--event-monitor"));
            }

            if (options.VmConfigError is { } error)
            {
                throw error;
            }

            if (options.VmConfig is null)
            {
                if (options.Restore is not null)
                {
                    throw new VmmException("Error restoring VM", VmmException.NotSupportedYet("snapshot restore (--restore)"));
                }

                Terminate.Wait();
                return 0;
            }

            return RunVm(options, hypervisor);
        }
    }

    private static int RunVm(LaunchOptions options, IHypervisor hypervisor)
    {
        while (true)
        {
            VmStopReason reason;
            Vm vm;
            try
            {
                vm = Vm.Create(options.VmConfig!, hypervisor);
            }
            catch (ChainedException e)
            {
                throw new VmmException("Error booting VM", new VmmException("The VM could not boot", e));
            }

            using (vm)
            {
                vm.Boot();
                var waiter = new Thread(() =>
                {
                    Terminate.Wait();
                    vm.RequestShutdown();
                }) { IsBackground = true, Name = "vmm_signal_handler" };
                waiter.Start();
                reason = vm.WaitForStop();
            }

            switch (reason)
            {
                case VmStopReason.Reset when !Terminate.IsSet:
                    Log.Info("VM reboot requested by the guest");
                    continue;
                case VmStopReason.Error:
                    throw new VmmException("VM stopped", new VmmException("A vCPU hit a fatal exit; see the log line above"));
                case VmStopReason.Shutdown when options.NoShutdown && !Terminate.IsSet:
                    Terminate.Wait();
                    return 0;
                default:
                    Log.Info("Cloud Hypervisor exited successfully");
                    return 0;
            }
        }
    }

    private static void OnTerminate(PosixSignalContext context)
    {
        context.Cancel = true;
        Terminate.Set();
    }
}
