using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// virtio-rng (`__rng`): one queue of 256; each device-writable buffer the driver offers is filled
/// by reading the entropy source (`--rng src=`, default /dev/urandom) straight into guest memory.
/// Device-readable descriptors are skipped, as upstream does.
/// </summary>
public sealed class VirtioRng : IVirtioDevice
{
    public const ushort QueueSize = 256;
    public const string DefaultId = "__rng";

    private readonly SafeFd source;
    private readonly object gate = new();
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ChainHandler? fillChain;

    private VirtioRng(string id, SafeFd source)
    {
        Id = id;
        this.source = source;
    }

    public string Id { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Rng;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize];

    public ulong AvailableFeatures => VirtioFeatures.Version1;

    public int? ConfigSize => null;

    /// <summary>Opens <paramref name="path"/> as the entropy source.</summary>
    public static VirtioRng Open(string id, string path)
    {
        try
        {
            return new VirtioRng(id, SafeFd.Open(path, Libc.ORdOnly));
        }
        catch (OsException e)
        {
            throw new VirtioException("Cannot create virtio-rng device", e);
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
            StopWorker();
            interrupt = activation.Interrupt;
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioRng, activation.Queues, ProcessQueue);
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
        }
    }

    public void Dispose()
    {
        Reset();
        source.Dispose();
    }

    /// <summary>Fills every available chain; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        QueueDrain.Run(binding, interrupt, fillChain ??= FillChain);
    }

    private uint FillChain(ref DescriptorChain chain)
    {
        uint written = 0;
        while (chain.TryNext(out var descriptor))
        {
            if (!descriptor.IsWriteOnly)
            {
                Log.Warn($"{Id}: Skipping device-readable descriptor");
                continue;
            }

            if (descriptor.Length == 0)
            {
                continue;
            }

            var filled = Fill(chain.Buffer(descriptor));
            written += (uint)filled;
            if (filled < descriptor.Length)
            {
                break;
            }
        }

        return written;
    }

    /// <summary>Reads the source into <paramref name="buffer"/> until it is full, the source ends or fails.</summary>
    private unsafe int Fill(Span<byte> buffer)
    {
        var total = 0;
        fixed (byte* start = buffer)
        {
            while (total < buffer.Length)
            {
                var n = Libc.Read(source.Fd, start + total, (nuint)(buffer.Length - total));
                if (n > 0)
                {
                    total += (int)n;
                    continue;
                }

                if (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EIntr)
                {
                    continue;
                }

                if (n < 0)
                {
                    Log.Warn($"{Id}: Failed to read entropy into descriptor: {OsException.Last().Message}");
                }

                break;
            }
        }

        return total;
    }

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
