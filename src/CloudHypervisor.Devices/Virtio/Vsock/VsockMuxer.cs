using System.Globalization;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>A connection's identity: the host-side port and the guest-side port.</summary>
internal readonly record struct VsockConnectionKey(uint LocalPort, uint PeerPort);

/// <summary>
/// Upstream's hybrid vsock backend: guest AF_VSOCK streams to host AF_UNIX sockets. The device's socket
/// (<c>socket=</c>) accepts host clients, each of which names a guest port with "CONNECT &lt;port&gt;\n" and,
/// once the guest accepts, reads "OK &lt;host port&gt;\n" (host ports count up from 2^30); a guest connecting to
/// host port P gets the Unix socket "&lt;socket&gt;_P". The listening socket, the clients that have not said
/// CONNECT yet and every connection's socket sit in one epoll set, which the device's I/O thread watches.
/// Packets for the guest wait in a queue of 256 (rebuilt from the connections if it ever overflows).
/// </summary>
internal sealed class VsockMuxer : IDisposable
{
    public const int MaxConnections = 1023;
    public const int RxQueueSize = 256;

    private const int EventBatch = 32;

    private readonly ulong guestCid;
    private readonly string hostPath;
    private readonly SafeFd listener;
    private readonly SafeFd epoll;
    private readonly Dictionary<VsockConnectionKey, VsockConnection> connections = new(MaxConnections);
    private readonly Dictionary<int, VsockConnectionKey> connectionsByFd = new(MaxConnections);
    private readonly Dictionary<int, HostConnectRequest> requests = [];
    private readonly HashSet<uint> localPorts = new(MaxConnections);
    private readonly Queue<PendingPacket> rxQueue = new(RxQueueSize);
    private bool rxQueueSynced = true;
    private uint lastLocalPort = (1u << 30) - 1;

    private VsockMuxer(ulong guestCid, string hostPath, SafeFd listener, SafeFd epoll)
    {
        this.guestCid = guestCid;
        this.hostPath = hostPath;
        this.listener = listener;
        this.epoll = epoll;
    }

    /// <summary>The epoll set to watch: readable whenever a socket needs attention (<see cref="Poll"/>).</summary>
    public int PollFd => epoll.Fd;

    public string HostPath => hostPath;

    public int ConnectionCount => connections.Count;

    /// <summary>Whether a packet for the guest is waiting (the receive queue should be filled).</summary>
    public bool HasPendingRx => rxQueue.Count > 0 || !rxQueueSynced;

    /// <summary>
    /// Binds and listens on <paramref name="path"/>. An existing file there is not removed: binding then
    /// fails with EADDRINUSE, as upstream's does.
    /// </summary>
    public static unsafe VsockMuxer Bind(ulong guestCid, string path)
    {
        var epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        SafeFd? listener = null;
        try
        {
            listener = BindListener(path);
            var muxer = new VsockMuxer(guestCid, path, listener, epoll);
            muxer.Watch(Libc.EpollCtlAdd, listener.Fd, Libc.EpollIn);
            return muxer;
        }
        catch
        {
            listener?.Dispose();
            epoll.Dispose();
            throw;
        }
    }

    /// <summary>Handles every socket event that has arrived (without blocking), then kills timed-out connections.</summary>
    public unsafe void Poll()
    {
        var events = stackalloc Libc.EpollEvent[EventBatch];
        for (var round = 0; round < 64; round++)
        {
            var count = Libc.EpollWait(epoll.Fd, events, EventBatch, 0);
            if (count < 0 && Marshal.GetLastPInvokeError() == Libc.EIntr)
            {
                continue;
            }

            for (var i = 0; i < count; i++)
            {
                HandleEvent((int)events[i].Data, events[i].Events);
            }

            if (count < EventBatch)
            {
                break;
            }
        }

        SweepExpired();
    }

    /// <summary>A packet from the guest (its data in <paramref name="data"/>): routed to its connection, or answered by the muxer.</summary>
    public void Send(in VsockHeader header, GuestIoVectors data)
    {
        if (header.Type != VsockHeader.TypeStream)
        {
            EnqueueRst(header.DstPort, header.SrcPort);
            return;
        }

        if (header.DstCid != VsockHeader.HostCid)
        {
            Log.Info($"vsock: dropping guest packet for unknown CID: {header}");
            return;
        }

        var key = new VsockConnectionKey(header.DstPort, header.SrcPort);
        if (!connections.TryGetValue(key, out var connection))
        {
            // Only a REQUEST may open a connection; anything else gets an RST (but an RST is never answered).
            if (header.Op == VsockOp.Request)
            {
                ConnectToHost(header);
            }
            else if (header.Op != VsockOp.Rst)
            {
                EnqueueRst(header.DstPort, header.SrcPort);
            }

            return;
        }

        if (header.Op == VsockOp.Rst)
        {
            RemoveConnection(key);
            return;
        }

        var before = Snapshot(connection);
        connection.Send(header, data, Environment.TickCount64);
        AfterChange(key, connection, before);
    }

    /// <summary>Fills the next packet for the guest (header and data into <paramref name="buffer"/>); false when there is none.</summary>
    public bool TryReceive(ref VsockHeader header, GuestIoVectors buffer)
    {
        if (rxQueue.Count == 0 && !rxQueueSynced)
        {
            RebuildRxQueue();
        }

        while (rxQueue.TryPeek(out var next))
        {
            if (next.IsRst)
            {
                rxQueue.Dequeue();
                header = new VsockHeader
                {
                    SrcCid = VsockHeader.HostCid,
                    DstCid = guestCid,
                    SrcPort = next.Key.LocalPort,
                    DstPort = next.Key.PeerPort,
                    Type = VsockHeader.TypeStream,
                    Op = VsockOp.Rst,
                };
                return true;
            }

            var filled = false;
            var done = true;
            if (connections.TryGetValue(next.Key, out var connection))
            {
                var before = Snapshot(connection);
                filled = connection.TryReceive(ref header, buffer, Environment.TickCount64);
                done = !connection.HasPendingRx;
                AfterChange(next.Key, connection, before);
            }

            if (done)
            {
                rxQueue.Dequeue();
            }

            if (filled)
            {
                if (header.Op == VsockOp.Rst)
                {
                    RemoveConnection(next.Key);
                }

                return true;
            }

            if (!done)
            {
                // The connection has something to say but not into this buffer.
                return false;
            }
        }

        return false;
    }

    /// <summary>Closes every socket and removes the device's socket file (upstream does at device shutdown).</summary>
    public void Dispose()
    {
        foreach (var connection in connections.Values)
        {
            connection.Dispose();
        }

        foreach (var request in requests.Values)
        {
            request.Dispose();
        }

        connections.Clear();
        connectionsByFd.Clear();
        requests.Clear();
        if (!listener.IsClosed)
        {
            Libc.Unlink(hostPath);
        }

        listener.Dispose();
        epoll.Dispose();
    }

    private static unsafe SafeFd BindListener(string path)
    {
        Libc.SockAddrUn address;
        uint length;
        try
        {
            address = Libc.SockAddrUn.ForPath(path, out length);
        }
        catch (ArgumentException)
        {
            throw new VsockException("Error binding to the host-side Unix socket", new VsockException("path must be shorter than SUN_LEN"));
        }

        var socket = new SafeFd(Libc.Socket(Libc.AfUnix, Libc.SockStream | Libc.SockNonBlock | Libc.SockCloExec, 0));
        if (socket.IsInvalid || Libc.Bind(socket.Fd, &address, length) != 0 || Libc.Listen(socket.Fd, 128) != 0)
        {
            var error = OsException.Last();
            socket.Dispose();
            throw new VsockException("Error binding to the host-side Unix socket", error);
        }

        return socket;
    }

    private void HandleEvent(int fd, uint events)
    {
        if (connectionsByFd.TryGetValue(fd, out var key) && connections.TryGetValue(key, out var connection))
        {
            var before = Snapshot(connection);
            connection.Notify(events);
            AfterChange(key, connection, before);
        }
        else if (fd == listener.Fd)
        {
            AcceptHostClients();
        }
        else if (requests.TryGetValue(fd, out var request))
        {
            ReadConnectCommand(fd, request);
        }
        else
        {
            Log.Info($"vsock: unexpected event: fd={fd}, event_set=0x{events:x}");
        }
    }

    private unsafe void AcceptHostClients()
    {
        while (true)
        {
            var fd = Libc.Accept4(listener.Fd, null, null, Libc.SockNonBlock | Libc.SockCloExec);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EIntr)
                {
                    continue;
                }

                if (errno != Libc.EAgain)
                {
                    Log.Warn($"vsock: unable to accept local connection: {OsException.Describe(errno)}");
                }

                return;
            }

            var stream = new SafeFd(fd);
            if (connections.Count >= MaxConnections)
            {
                Log.Warn("vsock: connection limit reached; refusing new host connection");
                stream.Dispose();
                continue;
            }

            var request = new HostConnectRequest(stream);
            if (!TryWatch(Libc.EpollCtlAdd, fd, Libc.EpollIn))
            {
                Log.Warn($"vsock: unable to accept local connection: {OsException.Last().Message}");
                request.Dispose();
                continue;
            }

            requests.Add(fd, request);
        }
    }

    private void ReadConnectCommand(int fd, HostConnectRequest request)
    {
        var status = request.Read();
        if (status == ConnectCommandStatus.Incomplete)
        {
            return;
        }

        requests.Remove(fd);
        TryWatch(Libc.EpollCtlDel, fd, 0);
        if (status == ConnectCommandStatus.Invalid)
        {
            Log.Info("vsock: error adding local-init connection: Invalid vsock port connection request");
            request.Dispose();
            return;
        }

        var localPort = AllocateLocalPort();
        var connection = VsockConnection.LocalInitiated(request.Stream, guestCid, localPort, request.Port);
        if (!TryAddConnection(new VsockConnectionKey(localPort, request.Port), connection))
        {
            localPorts.Remove(localPort);
            connection.Dispose();
        }
    }

    /// <summary>The guest's REQUEST to host port P: connect to "&lt;socket&gt;_P", or RST when nobody listens there.</summary>
    private unsafe void ConnectToHost(in VsockHeader request)
    {
        var path = hostPath + "_" + request.DstPort.ToString(CultureInfo.InvariantCulture);
        var socket = new SafeFd(Libc.Socket(Libc.AfUnix, Libc.SockStream | Libc.SockNonBlock | Libc.SockCloExec, 0));
        var connected = false;
        try
        {
            var address = Libc.SockAddrUn.ForPath(path, out var length);
            connected = !socket.IsInvalid && Libc.Connect(socket.Fd, &address, length) == 0;
        }
        catch (ArgumentException)
        {
        }

        if (connected)
        {
            var connection = VsockConnection.PeerInitiated(socket, guestCid, request.DstPort, request.SrcPort, request.BufAlloc);
            if (TryAddConnection(new VsockConnectionKey(request.DstPort, request.SrcPort), connection))
            {
                return;
            }
        }

        socket.Dispose();
        EnqueueRst(request.DstPort, request.SrcPort);
    }

    private bool TryAddConnection(VsockConnectionKey key, VsockConnection connection)
    {
        SweepExpired();
        if (connections.Count >= MaxConnections)
        {
            Log.Info($"vsock: muxer connection limit reached ({MaxConnections})");
            return false;
        }

        connections.Add(key, connection);
        connectionsByFd.Add(connection.Fd, key);
        if (!UpdateWatch(connection))
        {
            connections.Remove(key);
            connectionsByFd.Remove(connection.Fd);
            return false;
        }

        if (connection.HasPendingRx)
        {
            Push(new PendingPacket(key, IsRst: false));
        }

        return true;
    }

    private void RemoveConnection(VsockConnectionKey key)
    {
        if (connections.Remove(key, out var connection))
        {
            connectionsByFd.Remove(connection.Fd);
            if (connection.RegisteredEvents != 0)
            {
                TryWatch(Libc.EpollCtlDel, connection.Fd, 0);
            }

            connection.Dispose();
        }

        localPorts.Remove(key.LocalPort);
    }

    private void KillConnection(VsockConnectionKey key, VsockConnection connection)
    {
        var hadRx = connection.HasPendingRx;
        connection.Kill();
        if (!hadRx)
        {
            Push(new PendingPacket(key, IsRst: false));
        }
    }

    private static (bool HadRx, VsockConnectionState State) Snapshot(VsockConnection connection) =>
        (connection.HasPendingRx, connection.State);

    /// <summary>What follows any change to a connection: the "OK" to a host client, queueing its packets, its epoll interest.</summary>
    private void AfterChange(VsockConnectionKey key, VsockConnection connection, (bool HadRx, VsockConnectionState State) before)
    {
        if (before.State == VsockConnectionState.LocalInit && connection.State == VsockConnectionState.Established)
        {
            AcknowledgeHostClient(key, connection);
        }

        if (!before.HadRx && connection.HasPendingRx)
        {
            Push(new PendingPacket(key, IsRst: false));
        }

        if (!UpdateWatch(connection))
        {
            Log.Error($"vsock: error updating epoll listener for (lp={key.LocalPort}, pp={key.PeerPort}): {OsException.Last().Message}");
            KillConnection(key, connection);
        }
    }

    /// <summary>"OK &lt;host port&gt;\n" once the guest accepted a host client's connection.</summary>
    private static void AcknowledgeHostClient(VsockConnectionKey key, VsockConnection connection)
    {
        Span<byte> message = stackalloc byte[16];
        "OK "u8.CopyTo(message);
        key.LocalPort.TryFormat(message[3..], out var digits, default, CultureInfo.InvariantCulture);
        message[3 + digits] = (byte)'\n';
        var length = 4 + digits;
        var written = connection.SendRaw(message[..length]);
        if (written != length)
        {
            Log.Warn(written < 0
                ? $"vsock: unable to ack host connection: {OsException.Last().Message}"
                : "vsock: unable to fully write connection ack msg.");
            connection.Kill();
        }
    }

    private bool UpdateWatch(VsockConnection connection)
    {
        var wanted = connection.PolledEvents();
        var registered = connection.RegisteredEvents;
        if (wanted == registered)
        {
            return true;
        }

        // An empty interest set unregisters the socket: epoll would still report its hang-up, over and over.
        var ok = wanted == 0
            ? TryWatch(Libc.EpollCtlDel, connection.Fd, 0)
            : TryWatch(registered == 0 ? Libc.EpollCtlAdd : Libc.EpollCtlMod, connection.Fd, wanted);
        if (ok)
        {
            connection.RegisteredEvents = wanted;
        }

        return ok;
    }

    private void SweepExpired()
    {
        var now = Environment.TickCount64;
        foreach (var (key, connection) in connections)
        {
            if (connection.HasExpired(now) && connection.State != VsockConnectionState.Killed)
            {
                KillConnection(key, connection);
            }
        }
    }

    /// <summary>Upstream's allocator: the next free port in [2^30, 2^31), wrapping.</summary>
    private uint AllocateLocalPort()
    {
        do
        {
            lastLocalPort = ((lastLocalPort + 1) & ~(1u << 31)) | (1u << 30);
        }
        while (!localPorts.Add(lastLocalPort));

        return lastLocalPort;
    }

    private void EnqueueRst(uint localPort, uint peerPort)
    {
        if (!Push(new PendingPacket(new VsockConnectionKey(localPort, peerPort), IsRst: true)))
        {
            Log.Warn($"vsock: muxer.rxq full; dropping RST packet for lp={localPort}, pp={peerPort}");
        }
    }

    private bool Push(PendingPacket packet)
    {
        if (rxQueue.Count >= RxQueueSize)
        {
            rxQueueSynced = false;
            return false;
        }

        rxQueue.Enqueue(packet);
        return true;
    }

    /// <summary>After an overflow: every connection with something to say, in no particular order.</summary>
    private void RebuildRxQueue()
    {
        rxQueue.Clear();
        rxQueueSynced = true;
        foreach (var (key, connection) in connections)
        {
            if (connection.HasPendingRx && !Push(new PendingPacket(key, IsRst: false)))
            {
                rxQueueSynced = false;
                return;
            }
        }
    }

    private void Watch(int op, int fd, uint events)
    {
        if (!TryWatch(op, fd, events))
        {
            throw new VsockException("Error registering a new epoll-listening FD", OsException.Last());
        }
    }

    private unsafe bool TryWatch(int op, int fd, uint events)
    {
        var ev = new Libc.EpollEvent { Events = events, Data = (ulong)fd };
        return Libc.EpollCtl(epoll.Fd, op, fd, &ev) == 0;
    }

    /// <summary>A packet owed to the guest: an RST the muxer makes up, or whatever connection <see cref="Key"/> has to say.</summary>
    private readonly record struct PendingPacket(VsockConnectionKey Key, bool IsRst);
}
