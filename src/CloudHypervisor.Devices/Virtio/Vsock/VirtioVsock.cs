using CloudHypervisor.Sys.Seccomp;
using System.Buffers.Binary;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>
/// virtio-vsock (`_vsockN`, device type 19, VIRTIO 1.2 §5.10) with upstream's hybrid Unix-socket backend
/// (<see cref="VsockMuxer"/>): receive, transmit and event queues of 256; VERSION_1 and IN_ORDER, as
/// upstream offers; configuration space: guest_cid (u64). The socket is bound when the device is created
/// and its file removed when the device goes away.
/// </summary>
public sealed class VirtioVsock : IVirtioDevice
{
    public const ushort QueueSize = 256;
    public const int RxQueue = 0;
    public const int TxQueue = 1;
    public const int EventQueue = 2;
    public const int ConfigLength = 8;

    private readonly VsockMuxer muxer;
    private readonly object gate = new();
    private VirtioWorker? worker;
    private bool disposed;

    private VirtioVsock(string id, ulong cid, VsockMuxer muxer)
    {
        Id = id;
        Cid = cid;
        this.muxer = muxer;
    }

    public string Id { get; }

    /// <summary>The guest's context id.</summary>
    public ulong Cid { get; }

    /// <summary>The Unix socket host clients connect to.</summary>
    public string SocketPath => muxer.HostPath;

    public VirtioDeviceType DeviceType => VirtioDeviceType.Vsock;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [QueueSize, QueueSize, QueueSize];

    public ulong AvailableFeatures => VirtioFeatures.Version1 | VirtioFeatures.InOrder;

    public int? ConfigSize => ConfigLength;

    /// <summary>Binds <paramref name="socketPath"/>; fails as upstream when something already exists there.</summary>
    public static VirtioVsock Create(string id, ulong cid, string socketPath)
    {
        try
        {
            return new VirtioVsock(id, cid, VsockMuxer.Bind(cid, socketPath));
        }
        catch (VsockException e)
        {
            throw new VirtioException("Cannot create virtio-vsock backend", e);
        }
        catch (Sys.Errors.OsException e)
        {
            throw new VirtioException("Cannot create virtio-vsock backend", new VsockException("Error creating an epoll FD", e));
        }
    }

    /// <summary>Upstream answers only whole reads of the cid (8 bytes at 0, or 4 at 0 or 4); anything else is left alone.</summary>
    public void ReadConfig(ulong offset, Span<byte> data)
    {
        switch (offset)
        {
            case 0 when data.Length == 8:
                BinaryPrimitives.WriteUInt64LittleEndian(data, Cid);
                break;
            case 0 when data.Length == 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)Cid);
                break;
            case 4 when data.Length == 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)(Cid >> 32));
                break;
            default:
                Log.Warn($"vsock: virtio-vsock received invalid read request of {data.Length} bytes at offset {offset}");
                break;
        }
    }

    public void WriteConfig(ulong offset, ReadOnlySpan<byte> data) =>
        Log.Warn($"{Id}: Ignoring write to read-only virtio-vsock configuration at offset 0x{offset:x}");

    public void Activate(VirtioActivation activation)
    {
        lock (gate)
        {
            StopWorker();
            var queues = new VsockQueues(Id, muxer, activation.Interrupt, activation.Queues);
            VirtioWorkerSource? sockets = queues.Rx is { } rx ? new VirtioWorkerSource(muxer.PollFd, rx) : null;
            worker = VirtioWorker.Start(Id, SeccompThreadKind.VirtioVsock, activation.Queues, queues.ProcessQueue, sockets);
        }
    }

    /// <summary>Stops the I/O thread; connections stay, as upstream's backend outlives a driver reset.</summary>
    public void Reset()
    {
        lock (gate)
        {
            StopWorker();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            StopWorker();
            if (!disposed)
            {
                disposed = true;
                muxer.Dispose();
            }
        }
    }

    private void StopWorker()
    {
        worker?.Dispose();
        worker = null;
    }
}
