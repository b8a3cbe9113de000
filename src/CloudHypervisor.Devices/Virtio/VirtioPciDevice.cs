using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Pci;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// The virtio-pci modern transport (VIRTIO 1.x only) as upstream lays it out: one 512 KiB memory
/// BAR holding the common configuration, ISR, device configuration, notification area and the
/// MSI-X table and PBA; queues + 1 MSI-X vectors. Queue notifications reach the device through
/// ioeventfds registered on the notification area (a BAR write is the fallback). The device starts
/// on DRIVER_OK and stops on a status write of 0.
/// </summary>
public sealed class VirtioPciDevice : PciDevice, IDisposable
{
    private readonly object gate = new();
    private readonly GuestMemory memory;
    private readonly VirtQueue[] queues;
    private readonly EventFd[] notifiers;
    private readonly MsixTable msix;
    private readonly VirtioPciCommonConfig common;
    private readonly VirtioPciInterrupt interrupt;
    private readonly PciBarRegion barRegion;
    private readonly byte[] accessCap = new byte[VirtioPciCapabilities.PciConfigAccessBodyLength];
    private readonly int accessCapOffset;
    private Action<EventFd, ulong>? registerNotifier;
    private Action<EventFd, ulong>? unregisterNotifier;
    private bool activated;

    public VirtioPciDevice(IVirtioDevice device, GuestMemory memory, IMsixRouting msixRouting, ulong barAddress, PciBarRegion barRegion)
        : base(new PciConfigSpace(IdsOf(device.DeviceType)))
    {
        if (!VirtioFeatures.Has(device.AvailableFeatures, VirtioFeatures.Version1))
        {
            throw new VirtioException($"{device.Id}: a modern virtio device must offer VIRTIO_F_VERSION_1");
        }

        var maxSizes = device.QueueMaxSizes;
        if (maxSizes.Count is 0 or > VirtioPciLayout.MaxQueues)
        {
            throw new VirtioException($"{device.Id}: {maxSizes.Count} queues is outside 1-{VirtioPciLayout.MaxQueues}");
        }

        Device = device;
        this.memory = memory;
        this.barRegion = barRegion;
        queues = new VirtQueue[maxSizes.Count];
        notifiers = new EventFd[maxSizes.Count];
        for (var i = 0; i < queues.Length; i++)
        {
            queues[i] = new VirtQueue(maxSizes[i]);
            queues[i].Broken += OnQueueBroken;
            notifiers[i] = new EventFd(nonBlocking: true);
        }

        var vectors = queues.Length + 1;
        msix = new MsixTable(vectors, msixRouting);
        common = new VirtioPciCommonConfig(device.Id, device.AvailableFeatures, queues);
        interrupt = new VirtioPciInterrupt(common, msix);

        Config.AddBar(new PciBar(VirtioPciLayout.BarIndex, barAddress, VirtioPciLayout.BarSize, barRegion));
        var msixCapability = new MsixCapability(
            (ushort)vectors, VirtioPciLayout.BarIndex, (uint)VirtioPciLayout.MsixTableOffset, VirtioPciLayout.BarIndex, (uint)VirtioPciLayout.MsixPbaOffset);
        var deviceConfigSize = (ulong)(device.ConfigSize ?? (int)VirtioPciLayout.DeviceConfigSize);
        accessCapOffset = VirtioPciCapabilities.Add(Config, deviceConfigSize, msixCapability, msix);
        VirtioPciCapabilities.Cap(accessCap, VirtioPciCapabilities.PciConfigAccess, 0, 0);
    }

    public IVirtioDevice Device { get; }

    /// <summary>BAR 0 where the guest currently has it.</summary>
    public PciBar Bar => new(VirtioPciLayout.BarIndex, Config.BarAddress(VirtioPciLayout.BarIndex), VirtioPciLayout.BarSize, barRegion);

    public int QueueCount => queues.Length;

    /// <summary>The MSI-X table (for tests and diagnostics).</summary>
    public MsixTable Msix => msix;

    /// <summary>
    /// Hands every queue's notifier and notification address to <paramref name="register"/> (the
    /// hypervisor's ioeventfd registration), now and again whenever the guest moves the BAR, after
    /// <paramref name="unregister"/> has dropped the registrations at the old address.
    /// </summary>
    public void RegisterNotifiers(Action<EventFd, ulong> register, Action<EventFd, ulong> unregister)
    {
        registerNotifier = register;
        unregisterNotifier = unregister;
        var bar = Bar.Address;
        for (var i = 0; i < notifiers.Length; i++)
        {
            register(notifiers[i], bar + VirtioPciLayout.QueueNotifyOffset(i));
        }
    }

    /// <summary>Drops the notifiers' registrations at the current BAR (before the function is unplugged).</summary>
    public void UnregisterNotifiers()
    {
        if (unregisterNotifier is { } unregister)
        {
            var bar = Bar.Address;
            for (var i = 0; i < notifiers.Length; i++)
            {
                unregister(notifiers[i], bar + VirtioPciLayout.QueueNotifyOffset(i));
            }
        }

        registerNotifier = null;
        unregisterNotifier = null;
    }

    public override void MoveBar(ulong oldBase, ulong newBase)
    {
        if (registerNotifier is { } register && unregisterNotifier is { } unregister)
        {
            for (var i = 0; i < notifiers.Length; i++)
            {
                unregister(notifiers[i], oldBase + VirtioPciLayout.QueueNotifyOffset(i));
                register(notifiers[i], newBase + VirtioPciLayout.QueueNotifyOffset(i));
            }
        }
    }

    public override uint ReadConfigRegister(int register)
    {
        var start = register * 4;
        if (start < accessCapOffset || start + 4 > accessCapOffset + accessCap.Length)
        {
            return base.ReadConfigRegister(register);
        }

        Span<byte> data = stackalloc byte[4];
        data.Clear();
        var relative = start - accessCapOffset;
        if (relative < VirtioPciCapabilities.CapBodyLength)
        {
            accessCap.AsSpan(relative, 4).CopyTo(data);
        }
        else
        {
            var (offset, length) = AccessWindow(data.Length);
            Read(Bar.Address, offset, data[..length]);
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    public override PciBarMove? WriteConfigRegister(int register, int offset, ReadOnlySpan<byte> data)
    {
        var start = register * 4 + offset;
        if (start < accessCapOffset || start + data.Length > accessCapOffset + accessCap.Length)
        {
            return base.WriteConfigRegister(register, offset, data);
        }

        var relative = start - accessCapOffset;
        if (relative < VirtioPciCapabilities.CapBodyLength)
        {
            data.CopyTo(accessCap.AsSpan(relative));
        }
        else
        {
            var (barOffset, length) = AccessWindow(data.Length);
            Write(Bar.Address, barOffset, data[..length]);
        }

        return null;
    }

    public override void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (gate)
        {
            switch (offset)
            {
                case < VirtioPciLayout.CommonConfigOffset + VirtioPciLayout.CommonConfigSize:
                    common.Read(offset - VirtioPciLayout.CommonConfigOffset, data);
                    break;
                case >= VirtioPciLayout.IsrOffset and < VirtioPciLayout.IsrOffset + VirtioPciLayout.IsrSize:
                    data[0] = interrupt.TakeIsr();
                    break;
                case >= VirtioPciLayout.DeviceConfigOffset and < VirtioPciLayout.DeviceConfigOffset + VirtioPciLayout.DeviceConfigSize:
                    Device.ReadConfig(offset - VirtioPciLayout.DeviceConfigOffset, data);
                    break;
                case >= VirtioPciLayout.MsixTableOffset and < VirtioPciLayout.MsixTableOffset + VirtioPciLayout.MsixTableSize:
                    msix.ReadTable(offset - VirtioPciLayout.MsixTableOffset, data);
                    break;
                case >= VirtioPciLayout.MsixPbaOffset and < VirtioPciLayout.MsixPbaOffset + VirtioPciLayout.MsixPbaSize:
                    msix.ReadPba(offset - VirtioPciLayout.MsixPbaOffset, data);
                    break;
            }
        }
    }

    public override void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        lock (gate)
        {
            var wasReady = common.IsDriverReady;
            switch (offset)
            {
                case < VirtioPciLayout.CommonConfigOffset + VirtioPciLayout.CommonConfigSize:
                    common.Write(offset - VirtioPciLayout.CommonConfigOffset, data);
                    break;
                case >= VirtioPciLayout.IsrOffset and < VirtioPciLayout.IsrOffset + VirtioPciLayout.IsrSize when data.Length > 0:
                    interrupt.ClearIsr(data[0]);
                    break;
                case >= VirtioPciLayout.DeviceConfigOffset and < VirtioPciLayout.DeviceConfigOffset + VirtioPciLayout.DeviceConfigSize:
                    Device.WriteConfig(offset - VirtioPciLayout.DeviceConfigOffset, data);
                    break;
                case >= VirtioPciLayout.NotifyOffset and < VirtioPciLayout.NotifyOffset + VirtioPciLayout.NotifySize:
                    Notify(offset);
                    break;
                case >= VirtioPciLayout.MsixTableOffset and < VirtioPciLayout.MsixTableOffset + VirtioPciLayout.MsixTableSize:
                    msix.WriteTable(offset - VirtioPciLayout.MsixTableOffset, data);
                    break;
            }

            if (!wasReady && !activated && common.IsDriverReady)
            {
                Activate();
            }
            else if (common.Status == DeviceStatus.Reset && (activated || offset == VirtioPciCommonConfig.DeviceStatusOffset))
            {
                ResetDevice();
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            Device.Dispose();
            foreach (var notifier in notifiers)
            {
                notifier.Dispose();
            }
        }
    }

    private static PciIds IdsOf(VirtioDeviceType type)
    {
        var (classCode, subclass) = type switch
        {
            VirtioDeviceType.Net => (PciClass.NetworkController, (byte)0x00),
            VirtioDeviceType.Block => (PciClass.MassStorage, (byte)0x80),
            _ => (PciClass.Other, (byte)0xFF),
        };
        var deviceId = (ushort)(VirtioPciLayout.DeviceIdBase + (ushort)type);
        return new PciIds(VirtioPciLayout.VendorId, deviceId, classCode, subclass, 0, VirtioPciLayout.Revision, VirtioPciLayout.VendorId, deviceId);
    }

    /// <summary>The BAR offset and length the PCI configuration access capability currently selects.</summary>
    private (ulong Offset, int Length) AccessWindow(int accessLength)
    {
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(accessCap.AsSpan(6));
        var length = BinaryPrimitives.ReadUInt32LittleEndian(accessCap.AsSpan(10));
        return (offset, (int)Math.Min(length, (uint)accessLength));
    }

    /// <summary>A notification that reached the VMM instead of an ioeventfd (no KVM registration, or through the access capability).</summary>
    private void Notify(ulong offset)
    {
        var relative = offset - VirtioPciLayout.NotifyOffset;
        var queue = relative / VirtioPciLayout.NotifyOffMultiplier;
        if (relative % VirtioPciLayout.NotifyOffMultiplier == 0 && queue < (ulong)notifiers.Length)
        {
            notifiers[queue].Write();
        }
        else
        {
            Log.Warn($"{Device.Id}: Notification BAR write matched no queue: offset = 0x{offset:x}");
        }
    }

    private void Activate()
    {
        var features = common.DriverFeatures;
        var bindings = new List<VirtioQueueBinding>(queues.Length);
        for (var i = 0; i < queues.Length; i++)
        {
            if (queues[i].Ready && queues[i].Activate(memory, features, $"{Device.Id} queue {i}"))
            {
                bindings.Add(new VirtioQueueBinding(i, queues[i], notifiers[i]));
            }
        }

        if (bindings.Count == 0)
        {
            Log.Warn($"{Device.Id}: DRIVER_OK without a usable queue; the device stays inactive");
            return;
        }

        try
        {
            Device.Activate(new VirtioActivation(memory, features, interrupt, bindings));
            activated = true;
        }
        catch (Sys.Errors.ChainedException e)
        {
            Log.Error($"{Device.Id}: virtio device activation failed: {e.Message}");
            common.SetNeedsReset();
            interrupt.SignalConfigChange();
        }
    }

    private void ResetDevice()
    {
        if (activated)
        {
            Device.Reset();
            activated = false;
        }

        foreach (var queue in queues)
        {
            queue.Reset();
        }

        // Notifications that arrived before the reset must not wake the next activation.
        foreach (var notifier in notifiers)
        {
            notifier.Read();
        }

        common.Reset();
        interrupt.TakeIsr();
    }

    private void OnQueueBroken(VirtQueue queue)
    {
        common.SetNeedsReset();
        interrupt.SignalConfigChange();
    }
}
