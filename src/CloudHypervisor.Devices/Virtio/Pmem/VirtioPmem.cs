using System.Buffers.Binary;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Sys.Seccomp;

namespace CloudHypervisor.Devices.Virtio.Pmem;

/// <summary>
/// virtio-pmem (`_pmemN`): the backing file is guest memory at <see cref="Start"/> (its own memory
/// slot, mapped by the VMM); the device only reports that range in its configuration space and
/// answers FLUSH requests on its one queue by fsync-ing the file.
/// </summary>
public sealed class VirtioPmem : IVirtioDevice
{
    public const ushort QueueSize = 256;
    public const uint RequestFlush = 0;
    public const uint ResponseOk = 0;
    public const uint ResponseEio = 1;

    /// <summary>start (le64) and size (le64), VIRTIO 1.2 §5.19.4.</summary>
    public const int ConfigLength = 16;

    private readonly SafeFd file;
    private readonly byte[] config = new byte[ConfigLength];
    private readonly object gate = new();
    private VirtioWorker? worker;
    private IVirtioInterrupt? interrupt;
    private ChainHandler? execute;

    /// <summary>Serves FLUSH on <paramref name="file"/>, which it owns from now on.</summary>
    public VirtioPmem(string id, SafeFd file, ulong start, ulong size)
    {
        Id = id;
        this.file = file;
        Start = start;
        Size = size;
        BinaryPrimitives.WriteUInt64LittleEndian(config, start);
        BinaryPrimitives.WriteUInt64LittleEndian(config.AsSpan(8), size);
    }

    public string Id { get; }

    /// <summary>The guest physical address of the persistent memory range.</summary>
    public ulong Start { get; }

    public ulong Size { get; }

    public VirtioDeviceType DeviceType => VirtioDeviceType.Pmem;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize];

    public ulong AvailableFeatures => VirtioFeatures.Version1;

    public int? ConfigSize => ConfigLength;

    public void ReadConfig(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset < ConfigLength)
        {
            var available = config.AsSpan((int)offset);
            available[..Math.Min(available.Length, data.Length)].CopyTo(data);
        }
    }

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data) =>
        Log.Warn($"{Id}: Attempt to write to read-only configuration space at offset {offset}");

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            interrupt = activation.Interrupt;
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioPmem, activation.Queues, ProcessQueue);
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
        file.Dispose();
    }

    /// <summary>Answers every available request; called on the I/O thread (and by tests).</summary>
    internal void ProcessQueue(VirtioQueueBinding binding)
    {
        QueueDrain.Run(binding, interrupt, execute ??= Execute);
    }

    /// <summary>
    /// A request is a readable 4-byte type then a writable 4-byte response; a malformed one is
    /// returned unanswered (length 0), as upstream does.
    /// </summary>
    private uint Execute(ref DescriptorChain chain)
    {
        if (!chain.TryNext(out var request) || request.IsWriteOnly || request.Length < 4
            || !chain.TryNext(out var response) || !response.IsWriteOnly || response.Length < 4)
        {
            Log.Error($"{Id}: Failed creating request: invalid descriptor chain");
            return 0;
        }

        var type = BinaryPrimitives.ReadUInt32LittleEndian(chain.Buffer(request));
        if (type != RequestFlush)
        {
            Log.Error($"{Id}: Failed creating request: invalid request type {type}");
            return 0;
        }

        var status = ResponseOk;
        if (Libc.Fsync(file.Fd) != 0)
        {
            Log.Error($"{Id}: Failed flushing disk image: {OsException.Last().Message}");
            status = ResponseEio;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(chain.Buffer(response), status);
        return 4;
    }

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
