using System.Diagnostics;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Watchdog;

/// <summary>
/// virtio-watchdog (`__watchdog`, device type 35 as upstream defines it): the driver pets it by
/// offering a device-writable buffer, which comes back holding a 1. The first pet starts a periodic
/// check (every 15 s); once a check finds more than 20 s since the last pet, the VM is reset.
/// A device reset (the driver going away) stops the checks.
/// </summary>
public sealed class VirtioWatchdog : IVirtioDevice
{
    public const ushort QueueSize = 8;
    public const string DefaultId = "__watchdog";

    /// <summary>Upstream's check period; the Linux driver pets at this pace too.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(15);

    /// <summary>Upstream's limit: the interval plus five seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly object gate = new();
    private readonly Action expired;
    private readonly TimeSpan interval;
    private readonly TimeSpan timeout;
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ChainHandler? answerPet;
    private Timer? timer;
    private long lastPing;

    /// <summary><paramref name="expired"/> resets the VM; it runs on a thread-pool thread.</summary>
    public VirtioWatchdog(string id, Action expired)
        : this(id, expired, DefaultInterval, DefaultTimeout)
    {
    }

    internal VirtioWatchdog(string id, Action expired, TimeSpan interval, TimeSpan timeout)
    {
        Id = id;
        this.expired = expired;
        this.interval = interval;
        this.timeout = timeout;
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Watchdog;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize];

    public ulong AvailableFeatures => VirtioFeatures.Version1;

    public int? ConfigSize => null;

    /// <summary>Whether a pet has armed the periodic check.</summary>
    public bool IsArmed
    {
        get
        {
            lock (gate)
            {
                return timer is not null;
            }
        }
    }

    public void ReadConfig(ulong offset, Span<byte> data) => data.Clear();

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
    }

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            Stop();
            interrupt = activation.Interrupt;
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioWatchdog, activation.Queues, ProcessQueue);
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            Stop();
        }
    }

    public void Dispose() => Reset();

    /// <summary>Answers every pet; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding) => QueueDrain.Run(binding, interrupt, answerPet ??= AnswerPet);

    private uint AnswerPet(ref DescriptorChain chain)
    {
        if (!chain.TryNext(out var descriptor) || !descriptor.IsWriteOnly || descriptor.Length == 0)
        {
            // Upstream stops serving the queue on a malformed pet.
            chain.Reject("invalid descriptor: a pet must be a device-writable buffer");
            return 0;
        }

        chain.Buffer(descriptor)[0] = 1;
        Pet();
        return descriptor.Length;
    }

    /// <summary>One periodic check: resets the VM when the last pet is older than the timeout.</summary>
    internal void Check()
    {
        long last;
        lock (gate)
        {
            if (timer is null)
            {
                return;
            }

            last = lastPing;
        }

        var gap = Stopwatch.GetElapsedTime(last);
        if (gap > timeout)
        {
            Log.Error($"Watchdog triggered: {(long)gap.TotalSeconds} seconds since last ping");
            expired();
        }
    }

    private void Pet()
    {
        lock (gate)
        {
            lastPing = Stopwatch.GetTimestamp();
            if (timer is null)
            {
                Log.Info($"First ping received. Starting timer (every {(long)interval.TotalSeconds} seconds)");
                timer = new Timer(_ => Check(), null, interval, interval);
            }
        }
    }

    private void Stop()
    {
        worker?.Dispose();
        worker = null;
        timer?.Dispose();
        timer = null;
    }
}
