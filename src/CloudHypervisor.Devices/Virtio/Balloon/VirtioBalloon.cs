using CloudHypervisor.Sys.Seccomp;
using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Balloon;

/// <summary>
/// virtio-balloon (`__balloon`, device type 5), as upstream has it: the host sets a target
/// (<c>num_pages</c>, 4 KiB pages) in the configuration space and raises a configuration change;
/// the driver inflates by sending the PFNs of pages it gives up on the inflate queue (the VMM
/// releases them to the host), deflates by sending PFNs on the deflate queue, and writes how many
/// pages the balloon holds to <c>actual</c>. With <c>free_page_reporting=on</c> a third queue
/// carries free guest ranges, released the same way. Queues of 128 (reporting: 32).
/// </summary>
public sealed class VirtioBalloon : IVirtioDevice
{
    public const ushort QueueSize = 128;
    public const ushort ReportingQueueSize = 32;
    public const string DefaultId = "__balloon";
    public const int InflateQueue = 0;
    public const int DeflateQueue = 1;
    public const int ReportingQueue = 2;

    /// <summary>num_pages (le32) then actual (le32), VIRTIO 1.2 §5.5.4.</summary>
    public const int ConfigLength = 8;
    public const ulong ActualOffset = 4;

    private readonly object gate = new();
    private uint numPages;
    private uint actual;
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ulong features;
    private ChainHandler? inflate;
    private ChainHandler? deflate;
    private ChainHandler? report;
    private int releaseFailureLogged;

    /// <summary>A balloon whose initial target is <paramref name="size"/> bytes (`--balloon size=`).</summary>
    public VirtioBalloon(string id, ulong size, bool deflateOnOom, bool freePageReporting)
    {
        Id = id;
        numPages = PagesOf(size);
        AvailableFeatures = VirtioFeatures.Version1
            | (deflateOnOom ? BalloonFeatures.DeflateOnOom : 0)
            | (freePageReporting ? BalloonFeatures.Reporting : 0);
        QueueMaxSizes = freePageReporting ? [QueueSize, QueueSize, ReportingQueueSize] : [QueueSize, QueueSize];
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Balloon;

    public IReadOnlyList<ushort> QueueMaxSizes { get; }

    public ulong AvailableFeatures { get; }

    public int? ConfigSize => ConfigLength;

    /// <summary>The target the host asks for, in bytes.</summary>
    public ulong TargetSize => (ulong)Volatile.Read(ref numPages) << BalloonMemory.PageShift;

    /// <summary>What the driver says the balloon holds (<c>actual</c>), in bytes.</summary>
    public ulong ActualSize => (ulong)Volatile.Read(ref actual) << BalloonMemory.PageShift;

    /// <summary>A new target (vm.resize with desired_balloon): the driver is told through a configuration change interrupt.</summary>
    public void Resize(ulong size)
    {
        Volatile.Write(ref numPages, PagesOf(size));
        Volatile.Read(ref interrupt)?.SignalConfigChange();
    }

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        data.Clear();
        Span<byte> config = stackalloc byte[ConfigLength];
        BinaryPrimitives.WriteUInt32LittleEndian(config, Volatile.Read(ref numPages));
        BinaryPrimitives.WriteUInt32LittleEndian(config[4..], Volatile.Read(ref actual));
        if (offset < ConfigLength)
        {
            var available = config[(int)offset..];
            available[..Math.Min(available.Length, data.Length)].CopyTo(data);
        }
    }

    /// <summary>Only <c>actual</c> is writable, and only as one 32-bit write, as upstream.</summary>
    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset != ActualOffset || data.Length != 4)
        {
            Log.Error($"{Id}: Attempt to write to read-only field: offset {offset:x} length {data.Length}");
            return;
        }

        Volatile.Write(ref actual, BinaryPrimitives.ReadUInt32LittleEndian(data));
    }

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            features = activation.Features;
            releaseFailureLogged = 0;
            var queues = activation.Queues;
            if (!VirtioFeatures.Has(features, BalloonFeatures.Reporting))
            {
                // Without the feature the driver has no reporting queue: nothing on a third one is served.
                var served = new List<VirtioQueueBinding>(queues.Count);
                foreach (var binding in queues)
                {
                    if (binding.Index != ReportingQueue)
                    {
                        served.Add(binding);
                    }
                }

                queues = served;
            }

            Volatile.Write(ref interrupt, activation.Interrupt);
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioBalloon, queues, ProcessQueue);
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
        }
    }

    public void Dispose() => Reset();

    /// <summary>Drains one queue; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        var handler = binding.Index switch
        {
            InflateQueue => inflate ??= Inflate,
            DeflateQueue => deflate ??= Deflate,
            _ => report ??= Report,
        };
        QueueDrain.Run(binding, Volatile.Read(ref interrupt), handler);
    }

    private uint Inflate(ref DescriptorChain chain) => ApplyToPfns(ref chain, release: true);

    private uint Deflate(ref DescriptorChain chain) => ApplyToPfns(ref chain, release: false);

    /// <summary>
    /// A request is one device-readable array of le32 PFNs (4 KiB pages). Contiguous PFNs inside one
    /// region are handled as one range. A request that is device-writable, ragged, or names a page
    /// outside guest RAM breaks the queue (upstream stops the device on these).
    /// </summary>
    private uint ApplyToPfns(ref DescriptorChain chain, bool release)
    {
        if (!chain.TryNext(out var descriptor))
        {
            return 0;
        }

        if (descriptor.IsWriteOnly)
        {
            chain.Reject("the PFN array of a balloon request is device-writable");
            return 0;
        }

        if (descriptor.Length % sizeof(uint) != 0)
        {
            chain.Reject($"a balloon request of {descriptor.Length} bytes is not a whole number of PFNs");
            return 0;
        }

        var memory = chain.Memory;
        var pfns = chain.Buffer(descriptor);
        ulong runStart = 0;
        ulong runLength = 0;
        ulong runLimit = 0;
        for (var i = 0; i < pfns.Length; i += sizeof(uint))
        {
            // Each PFN is read once: the guest may rewrite the array meanwhile.
            var address = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(pfns[i..]) << BalloonMemory.PageShift;
            if (runLength > 0 && address == runStart + runLength && address < runLimit)
            {
                runLength += BalloonMemory.PageSize;
                continue;
            }

            if (runLength > 0)
            {
                Apply(memory, runStart, runLength, release);
            }

            if (BalloonMemory.Find(memory, address, BalloonMemory.PageSize) is not { } region)
            {
                chain.Reject($"PFN 0x{address >> BalloonMemory.PageShift:x} is outside guest RAM");
                return 0;
            }

            runStart = address;
            runLength = BalloonMemory.PageSize;
            runLimit = region.End;
        }

        if (runLength > 0)
        {
            Apply(memory, runStart, runLength, release);
        }

        return descriptor.Length;
    }

    /// <summary>Each descriptor of a report is a free guest range (already checked to be in RAM); its whole pages are released.</summary>
    private uint Report(ref DescriptorChain chain)
    {
        uint total = 0;
        while (chain.TryNext(out var descriptor))
        {
            total += descriptor.Length;
            var start = (descriptor.Address + BalloonMemory.PageSize - 1) & ~(BalloonMemory.PageSize - 1);
            var end = (descriptor.Address + descriptor.Length) & ~(BalloonMemory.PageSize - 1);
            if (end > start)
            {
                Apply(chain.Memory, start, end - start, release: true);
            }
        }

        return total;
    }

    /// <summary>Host-side failures are the host's, not the guest's: logged once per activation, the queue goes on.</summary>
    private void Apply(GuestMemory memory, ulong address, ulong length, bool release)
    {
        var result = release
            ? BalloonMemory.Release(memory, address, length, out var errno)
            : BalloonMemory.Prefetch(memory, address, length, out errno);
        if (result == BalloonMemoryResult.Done || Interlocked.Exchange(ref releaseFailureLogged, 1) != 0)
        {
            return;
        }

        if (result == BalloonMemoryResult.HugePages)
        {
            Log.Warn($"{Id}: Guest memory backed by huge pages cannot be released 4 KiB at a time; ballooned pages stay allocated");
        }
        else
        {
            Log.Error($"{Id}: Failed to {(release ? "release" : "advise")} guest memory at 0x{address:x}+0x{length:x}: {OsException.Describe(errno)}");
        }
    }

    private static uint PagesOf(ulong size) => (uint)(size >> BalloonMemory.PageShift);

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
