using CloudHypervisor.Contracts;
using CloudHypervisor.Hypervisor;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Config;
using CloudHypervisor.Vmm.Events;
using CloudHypervisor.Vmm.Sandbox;
using CloudHypervisor.Vmm.Vm;
using GuestVm = CloudHypervisor.Vmm.Vm.Vm;

namespace CloudHypervisor.Vmm.Control;

/// <summary>
/// The VMM: at most one VM configuration and one VM, driven by API requests, the command line
/// and guest power events. Every public method runs on the single VMM thread, so the state
/// machine below sees one action at a time; callers block only on their own request.
/// </summary>
public sealed partial class VmmController : IDisposable
{
    private readonly IHypervisor hypervisor;
    private readonly bool noShutdown;
    private readonly ControlThread thread;
    private readonly TaskCompletionSource<VmmExit> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Waiting on the task spins first; main waits through the VM's whole boot, so it sleeps on this instead.
    private readonly ManualResetEventSlim exitSignal = new(false, spinCount: 0);
    private readonly ColdPlugged coldPlugged = new();
    private VmConfig? config;
    private GuestVm? vm;

    /// <summary>Names unnamed hot-plugged devices, continuing the sequence the boot started.</summary>
    private DeviceIdAllocator idAllocator = new([]);

    /// <summary>The VMM thread is confined by Landlock (for good: a thread can never leave its sandbox).</summary>
    private bool sandboxed;

    /// <param name="commandLineVm">
    /// A VM comes from the command line: the VMM thread creates and boots it unfiltered (<see cref="BeginCreateVm"/>
    /// and <see cref="BootVm(bool)"/> with <c>commandLine</c>) and enters its seccomp filter at the next action
    /// (<see cref="FilterVmmThread"/>); otherwise it filters itself at once.
    /// </param>
    public VmmController(IHypervisor hypervisor, bool noShutdown, bool commandLineVm = false)
    {
        this.hypervisor = hypervisor;
        this.noShutdown = noShutdown;
        thread = new ControlThread("vmm", filterAtStart: !commandLineVm);
    }

    /// <summary>Completes when the VMM should end the process (vmm.shutdown, guest poweroff, fatal error, signal).</summary>
    public Task<VmmExit> Exited => exit.Task;

    /// <summary>Blocks (without spinning) until <see cref="Exited"/> completes.</summary>
    public VmmExit WaitForExit()
    {
        exitSignal.Wait();
        return exit.Task.Result;
    }

    public VmmPingResponse Ping() => new()
    {
        BuildVersion = VmmVersion.BuildVersion,
        Version = VmmVersion.Version,
        Pid = Environment.ProcessId,
        Features = [.. VmmVersion.Features],
    };

    public void CreateVm(VmConfig newConfig) => BeginCreateVm(newConfig, commandLine: false).Wait();

    /// <summary>Queues the VM's creation and returns at once (main opens the API socket meanwhile).</summary>
    /// <param name="commandLine">The command line's VM: created before the VMM thread's seccomp filter is on.</param>
    public PendingCall BeginCreateVm(VmConfig newConfig, bool commandLine) => thread.Begin(() =>
    {
        if (config is not null)
        {
            throw VmError.AlreadyCreated();
        }

        if (newConfig.LandlockEnable)
        {
            EnterSandbox(newConfig);
        }

        config = newConfig;
    }, commandLine ? FilterTiming.NotYet : FilterTiming.Before);

    public void BootVm() => BootVm(commandLine: false);

    /// <param name="commandLine">The command line's VM: the VMM thread enters its seccomp filter later (<see cref="FilterVmmThread"/>).</param>
    public void BootVm(bool commandLine) => thread.Invoke(() =>
    {
        if (vm is not null)
        {
            throw VmError.AlreadyCreated();
        }

        EventLog.Emit("vm", "booting");
        StartVm(config ?? throw VmError.ConfigMissing());
        EventLog.Emit("vm", "booted");
    }, commandLine ? FilterTiming.NotYet : FilterTiming.Before);

    /// <summary>
    /// Has the VMM thread enter its seccomp filter, after the command line's VM booted unfiltered; any other action
    /// would first do the same. Main calls it once it has started the VMM's services, so that the install does not
    /// compete with the guest's first vCPU and main's work for the two cores the guest starts on.
    /// </summary>
    public void FilterVmmThread() => thread.Post(static () => { });

    public void ShutdownVm() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        DestroyVm(running);
    });

    public void RebootVm() => thread.Invoke(() =>
    {
        EventLog.Emit("vm", "rebooting");
        var running = vm ?? throw VmError.NotCreated();
        Reboot(running);
    });

    public void PauseVm() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        EventLog.Emit("vm", "pausing");
        Transition(running, VmState.Paused, "Cannot pause VM", "Failed to pause migratable component", running.Pause);
        EventLog.Emit("vm", "paused");
    });

    public void ResumeVm() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        EventLog.Emit("vm", "resuming");
        Transition(running, VmState.Running, "Cannot resume VM", "Failed to resume migratable component", running.Resume);
        EventLog.Emit("vm", "resumed");
    });

    public void DeleteVm() => thread.Invoke(Delete);

    public VmInfo Info() => thread.Invoke(() =>
    {
        var current = config ?? throw VmError.NotCreated();
        return new VmInfo
        {
            Config = current,
            State = vm?.State ?? VmState.Created,
            MemoryActualSize = MemoryActualSize(current, vm),
            DeviceTree = vm?.DeviceTree(),
        };
    });

    /// <summary>Per device id, the counters upstream keeps (virtio-block: bytes, operations, latencies; virtio-net: bytes and frames each way).</summary>
    public VmCounters Counters() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        var counters = new VmCounters();
        foreach (var pci in running.Devices.VirtioDevices)
        {
            if (pci.Device is CloudHypervisor.Devices.Virtio.Block.VirtioBlock block)
            {
                counters[block.Id] = new Dictionary<string, ulong>(block.Counters.Snapshot());
            }
            else if (pci.Device is CloudHypervisor.Devices.Virtio.Net.VirtioNet net)
            {
                counters[net.Id] = new Dictionary<string, ulong>(net.Counters.Snapshot());
            }
        }

        return counters;
    });

    public void PowerButton() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        running.PressPowerButton();
    });

    public void InjectNmi() => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        try
        {
            running.InjectNmi();
        }
        catch (ChainedException e)
        {
            Log.Error($"Error injecting NMI: {e.Message}");
            throw new VmError(VmErrorKind.Failed, "Error injecting NMI");
        }
    });

    /// <summary>
    /// On a created VM only the configuration changes, unvalidated until the next boot, as upstream. On a
    /// booted VM the balloon takes its new target (and the configuration keeps it for a reboot); CPU and
    /// memory hotplug are not built yet.
    /// </summary>
    public void Resize(VmResize resize) => thread.Invoke(() =>
    {
        var current = config ?? throw VmError.NotCreated();
        if (vm is not null)
        {
            EventLog.Emit("vm", "resizing");
            if (resize.DesiredVcpus is not null || resize.DesiredRam is not null)
            {
                throw VmError.NotSupportedYet("Error from CPU manager", "CPU and memory hotplug (vm.resize on a booted VM)");
            }

            if (resize.DesiredBalloon is { } target)
            {
                ResizeBalloon(vm, current, target);
            }

            EventLog.Emit("vm", "resized");
            return;
        }

        if (resize.DesiredVcpus is { } vcpus)
        {
            current.Cpus.BootVcpus = vcpus;
        }

        if (resize.DesiredRam is { } ram)
        {
            current.Memory.Size = ram;
        }

        if (resize.DesiredBalloon is { } balloon && current.Balloon is not null)
        {
            current.Balloon.Size = balloon;
        }
    });

    public void ResizeZone(VmResizeZone resize) => thread.Invoke(() =>
    {
        var current = config ?? throw VmError.NotCreated();
        if (vm is not null)
        {
            throw VmError.NotSupportedYet("Failed resizing a memory zone", "memory zone resize on a booted VM");
        }

        var zone = current.Memory.Zones?.Find(z => z.Id == resize.Id);
        if (zone is null)
        {
            Log.Error($"Could not find the memory zone {resize.Id} for the resize");
            throw new VmError(VmErrorKind.Failed, "Failed resizing a memory zone");
        }

        zone.Size = resize.DesiredRam;
    });

    public void ResizeDisk(VmResizeDisk resize) => thread.Invoke(() =>
    {
        _ = config ?? throw VmError.NotCreated();
        if (vm is null)
        {
            throw new VmError(VmErrorKind.Failed, "Failed resizing a disk image");
        }

        throw new VmError(VmErrorKind.DeviceNotFound, "Error from device manager",
            new VmmException($"Failed to find device corresponding to the given identifier: {resize.Id}"));
    });

    /// <summary>Adds a device to the configuration (cold plug) or, on a booted VM, hot plugs it.</summary>
    /// <returns>Where the device landed when hot plugged; null for a cold plug.</returns>
    /// <remarks>The addition's descriptors are kept by the VMM on success and closed on failure.</remarks>
    public PciDeviceInfo? AddDevice(DeviceAddition addition)
    {
        try
        {
            return thread.Invoke(() =>
            {
                var current = config ?? throw VmError.NotCreated();
                var updated = ConfigCopy.Of(current);
                addition.AddTo(updated);
                var validated = Validated(updated);
                if (sandboxed)
                {
                    Admit(addition);
                }

                if (vm is not null)
                {
                    var info = Hotplug(vm, addition);
                    config = Hotplugged(current, addition);

                    // The device holds duplicates; the originals stay open, as for a cold plug, so a reboot rebuilds it from the config.
                    coldPlugged.Keep(addition);
                    return info;
                }

                config = validated;
                coldPlugged.Keep(addition);
                return (PciDeviceInfo?)null;
            });
        }
        catch
        {
            addition.ReleaseFds();
            throw;
        }
    }

    public void RemoveDevice(string id) => thread.Invoke(() =>
    {
        var current = config ?? throw VmError.NotCreated();
        var updated = ConfigCopy.Of(current);
        if (vm is not null)
        {
            // As upstream: the configuration forgets the device now; the device itself goes when the guest ejects it.
            if (!DeviceIds.Remove(updated, id) || !vm.Devices.RequestRemoval(id))
            {
                throw new VmError(VmErrorKind.DeviceNotFound, "Error from device manager",
                    new VmmException($"Failed to find device corresponding to the given identifier: {id}"));
            }

            config = updated;
            return;
        }

        if (!DeviceIds.Remove(updated, id))
        {
            throw new VmError(VmErrorKind.DeviceNotFound, $"No device with id \"{id}\" to remove");
        }

        config = updated;
    });

    public void Snapshot(VmSnapshotConfig snapshot) => thread.Invoke(() =>
    {
        var running = vm ?? throw VmError.NotRunning();
        EventLog.Emit("vm", "snapshotting");
        if (running.State != VmState.Paused)
        {
            throw new VmError(VmErrorKind.Failed, "Cannot snapshot VM", new VmmException("Trying to snapshot while VM is running"));
        }

        throw VmError.NotSupportedYet("Cannot snapshot VM", $"snapshots (to {snapshot.DestinationUrl})");
    });

    public void Restore(RestoreConfig restore) => thread.Invoke(() =>
    {
        if (config is not null || vm is not null)
        {
            throw VmError.AlreadyCreated();
        }

        throw VmError.NotSupportedYet("Cannot restore VM", $"snapshot restore (from {restore.SourceUrl})");
    });

    public void SendMigration(SendMigrationData migration) => thread.Invoke(() =>
    {
        _ = vm ?? throw VmError.NotRunning();
        throw VmError.NotSupportedYet("Migration failed", $"live migration (to {migration.DestinationUrl})");
    });

    public void ReceiveMigration(ReceiveMigrationData migration) => thread.Invoke(() =>
    {
        if (vm is not null)
        {
            throw VmError.AlreadyCreated();
        }

        throw VmError.NotSupportedYet("Migration failed", $"live migration (from {migration.ReceiverUrl})");
    });

    /// <summary>vmm.shutdown: deletes the VM, then ends the VMM with exit code 0.</summary>
    public void ShutdownVmm() => thread.Invoke(() =>
    {
        Delete();
        EventLog.Emit("vmm", "shutdown");
        Finish(new VmmExit(0, null));
    });

    /// <summary>SIGTERM/SIGINT: the same orderly shutdown, requested from a signal thread.</summary>
    public void RequestShutdown() => thread.Post(() =>
    {
        Delete();
        EventLog.Emit("vmm", "shutdown");
        Finish(new VmmExit(0, null));
    });

    /// <summary>Ends the VMM with an error (e.g. the command line's VM failed to boot).</summary>
    public void Fail(ChainedException error) => thread.Post(() =>
    {
        Delete();
        Finish(new VmmExit(1, error));
    });

    public void Dispose()
    {
        if (!exit.Task.IsCompleted)
        {
            try
            {
                thread.Invoke(Delete);
            }
            catch (VmError)
            {
                // The VMM thread finished in the meantime, after deleting the VM itself.
            }
        }

        thread.Dispose();
        coldPlugged.Dispose();
        exitSignal.Dispose();
    }

    /// <summary>Upstream's figure: the configured RAM, less what the balloon holds once the VM runs.</summary>
    private static ulong MemoryActualSize(VmConfig c, GuestVm? running)
    {
        var total = c.Memory.Size;
        foreach (var zone in c.Memory.Zones ?? [])
        {
            total += zone.Size;
        }

        var ballooned = running?.Devices.Balloon?.ActualSize ?? 0;
        return ballooned < total ? total - ballooned : 0;
    }

    private static void ResizeBalloon(GuestVm running, VmConfig current, ulong target)
    {
        if (running.Devices.Balloon is not { } balloon)
        {
            Log.Warn("No balloon setup: Can't resize the balloon");
            throw new VmError(VmErrorKind.Failed, "Error from device manager", new VmmException("Missing virtio-balloon, can't proceed as expected"));
        }

        balloon.Resize(target);

        // A reboot starts the balloon at the new target.
        if (current.Balloon is { } balloonConfig)
        {
            balloonConfig.Size = target;
        }
    }

    private static VmConfig Validated(VmConfig candidate)
    {
        try
        {
            VmConfigValidator.Validate(candidate);
            return candidate;
        }
        catch (ConfigValidationException e)
        {
            var kind = ValidationKinds.IsDuplicate(e.Problem.Message) ? VmErrorKind.DuplicateIdentifier : VmErrorKind.InvalidConfig;
            throw new VmError(kind, "Failed to validate config", e.Problem);
        }
    }

    /// <summary>
    /// As upstream, at vm.create the VMM thread confines itself to the files the configuration names, so
    /// every thread it creates afterwards (vCPUs, device and console threads) inherits the sandbox. Unlike
    /// upstream, a failure leaves no configuration behind that a later vm.boot could run unconfined.
    /// </summary>
    private void EnterSandbox(VmConfig newConfig)
    {
        try
        {
            ConsoleFiles.CreateMissing(newConfig);
            if (LandlockSandbox.RestrictCurrentThread(LandlockRules.FromConfig(newConfig)))
            {
                sandboxed = true;
                Log.Info($"Landlock sandbox applied (ABI {LandlockSandbox.AbiVersion})");
            }
            else
            {
                Log.Warn("Landlock is not supported by the host kernel: the VM runs without its Landlock sandbox");
            }
        }
        catch (LandlockException e)
        {
            throw new VmError(VmErrorKind.Failed, "Failed to apply landlock config during vm_create", e);
        }
    }

    private static void Admit(DeviceAddition addition)
    {
        try
        {
            LandlockAdmission.Check(addition.Configuration);
        }
        catch (VmmException e)
        {
            throw new VmError(VmErrorKind.Failed, "The device is outside the Landlock sandbox", e);
        }
    }

    /// <summary>Pause and resume refuse a transition the way upstream's Pausable components word it.</summary>
    private static void Transition(GuestVm running, VmState target, string failure, string component, Action action)
    {
        if (!VmStateMachine.IsAllowed(running.State, target))
        {
            throw new VmError(VmErrorKind.Failed, failure, new VmmException(component,
                new VmmException($"Invalid transition: InvalidStateTransition({running.State}, {target})")));
        }

        action();
    }

    /// <summary>Builds and boots a VM; its errors (upstream's VmError texts) reach the caller unchanged.</summary>
    private void StartVm(VmConfig bootConfig)
    {
        Validated(ConfigCopy.Of(bootConfig));

        // Upstream names unnamed devices while creating them and writes the names back, so vm.info shows them.
        idAllocator = DeviceIdAllocator.AssignMissingIds(bootConfig);
        var created = GuestVm.Create(ConfigCopy.Of(bootConfig), hypervisor, OnGuestStopped);
        created.Devices.EjectRequested = (segment, slot) => thread.Post(() => OnEjected(created, segment, slot));
        try
        {
            created.Boot();
        }
        catch
        {
            created.Dispose();
            throw;
        }

        vm = created;

        // vm.info reports the pseudo-terminals the console backends allocated, as upstream does.
        if (bootConfig.Serial.Mode == ConsoleMode.Pty)
        {
            bootConfig.Serial.File = created.Config.Serial.File;
        }

        if (bootConfig.Console.Mode == ConsoleMode.Pty)
        {
            bootConfig.Console.File = created.Config.Console.File;
        }
    }

    private void DestroyVm(GuestVm running, bool announce = true)
    {
        vm = null;
        try
        {
            running.Shutdown();
        }
        finally
        {
            running.Dispose();
        }

        if (announce)
        {
            EventLog.Emit("vm", "shutdown");
        }
    }

    private void Reboot(GuestVm running)
    {
        DestroyVm(running, announce: false);
        StartVm(config!);
        EventLog.Emit("vm", "rebooted");
    }

    private void Delete()
    {
        if (vm is { } running)
        {
            DestroyVm(running);
        }

        if (config is not null)
        {
            config = null;
            coldPlugged.Release();
            EventLog.Emit("vm", "deleted");
        }
    }

    private void Finish(VmmExit result)
    {
        thread.Complete();
        if (exit.TrySetResult(result))
        {
            exitSignal.Set();
        }
    }

    /// <summary>Guest power events arrive on a vCPU thread; they are handled on the VMM thread.</summary>
    private void OnGuestStopped(GuestVm source, VmStopReason reason) => thread.Post(() =>
    {
        if (!ReferenceEquals(source, vm))
        {
            return;
        }

        switch (reason)
        {
            case VmStopReason.Reset:
                Log.Info("VM reset event");
                EventLog.Emit("vm", "rebooting");
                try
                {
                    Reboot(source);
                }
                catch (ChainedException e)
                {
                    Delete();
                    Finish(new VmmExit(1, new VmmException("Error rebooting VM", e)));
                }

                break;
            case VmStopReason.Shutdown when noShutdown:
                DestroyVm(source);
                break;
            case VmStopReason.Shutdown:
                Log.Info("VM guest exit event");
                Delete();
                EventLog.Emit("vmm", "shutdown");
                Finish(new VmmExit(0, null));
                break;
            default:
                // Upstream ends the VMM cleanly (exit code 0) after a vCPU error; the error itself is logged by the vCPU.
                Delete();
                EventLog.Emit("vmm", "shutdown");
                Finish(new VmmExit(0, null));
                break;
        }
    });
}
