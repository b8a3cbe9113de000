using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>Where a connection is in its life (upstream's ConnState).</summary>
internal enum VsockConnectionState
{
    /// <summary>The host asked for it; the guest has not answered the REQUEST yet.</summary>
    LocalInit,

    /// <summary>The guest asked for it; the RESPONSE is still to be sent.</summary>
    PeerInit,
    Established,

    /// <summary>The host socket shut down (part of) its side.</summary>
    LocalClosed,

    /// <summary>The guest sent SHUTDOWN.</summary>
    PeerClosed,

    /// <summary>An RST is due; the connection goes once it is delivered.</summary>
    Killed,
}

/// <summary>
/// One stream between a guest AF_VSOCK socket and a host AF_UNIX socket: the connection state machine
/// and credit-based flow control of VIRTIO 1.2 §5.10.6.3. Guest data goes straight from guest memory
/// to the socket (what does not fit waits in a <see cref="VsockTxBuffer"/>); host data is read straight
/// into the guest's receive buffers, never more than the guest's credit (buf_alloc - (sent - fwd_cnt)).
/// The device advertises buf_alloc = 64 KiB and sends a credit update once the guest's view of the free
/// space drops under 4 KiB.
/// </summary>
internal sealed class VsockConnection : IDisposable
{
    public const uint BufferAllocation = VsockTxBuffer.Capacity;
    public const uint CreditUpdateThreshold = 4 * 1024;
    public const long RequestTimeoutMs = 2000;
    public const long ShutdownTimeoutMs = 2000;

    private readonly SafeFd stream;
    private readonly ulong peerCid;
    private readonly VsockTxBuffer txBuffer = new();
    private PendingRx pending;

    // The (no more receive, no more send) pair of LocalClosed (the host's) or PeerClosed (the guest's).
    private bool closedReceive;
    private bool closedSend;

    private uint fwdCnt;
    private uint peerBufAlloc;
    private uint peerFwdCnt;
    private uint rxCnt;
    private uint lastFwdCntToPeer;
    private bool hostWriteShutdown;
    private bool hostHungUp;

    private VsockConnection(SafeFd stream, ulong peerCid, uint localPort, uint peerPort, VsockConnectionState state, PendingRx pending, uint peerBufAlloc)
    {
        this.stream = stream;
        this.peerCid = peerCid;
        LocalPort = localPort;
        PeerPort = peerPort;
        State = state;
        this.pending = pending;
        this.peerBufAlloc = peerBufAlloc;
    }

    [Flags]
    private enum PendingRx : byte
    {
        Request = 1,
        Response = 2,
        Rst = 4,
        Rw = 8,
        CreditUpdate = 16,
    }

    public uint LocalPort { get; }

    public uint PeerPort { get; }

    public int Fd => stream.Fd;

    public VsockConnectionState State { get; private set; }

    /// <summary>When (Environment.TickCount64) the connection is to be killed, if a timer is armed.</summary>
    public long? Expiry { get; private set; }

    /// <summary>The epoll events the muxer has registered for the socket (0: not registered).</summary>
    public uint RegisteredEvents { get; set; }

    public bool HasPendingRx => pending != 0;

    /// <summary>A connection the guest asked for (REQUEST to host port <paramref name="localPort"/>): RESPONSE is due.</summary>
    public static VsockConnection PeerInitiated(SafeFd stream, ulong peerCid, uint localPort, uint peerPort, uint peerBufAlloc) =>
        new(stream, peerCid, localPort, peerPort, VsockConnectionState.PeerInit, PendingRx.Response, peerBufAlloc);

    /// <summary>A connection a host client asked for with CONNECT: a REQUEST to the guest is due.</summary>
    public static VsockConnection LocalInitiated(SafeFd stream, ulong peerCid, uint localPort, uint peerPort) =>
        new(stream, peerCid, localPort, peerPort, VsockConnectionState.LocalInit, PendingRx.Request, 0);

    public bool WillExpire(long now) => Expiry is { } t && t > now;

    public bool HasExpired(long now) => Expiry is { } t && t <= now;

    /// <summary>Schedules an RST: the connection ends as soon as the guest takes it.</summary>
    public void Kill()
    {
        State = VsockConnectionState.Killed;
        pending |= PendingRx.Rst;
    }

    /// <summary>
    /// Fills the next packet for the guest: header (and data read from the socket into <paramref name="buffer"/>).
    /// False when there is nothing to say (or no room for the data that is waiting).
    /// </summary>
    public bool TryReceive(ref VsockHeader header, GuestIoVectors buffer, long now)
    {
        header = new VsockHeader
        {
            SrcCid = VsockHeader.HostCid,
            DstCid = peerCid,
            SrcPort = LocalPort,
            DstPort = PeerPort,
            Type = VsockHeader.TypeStream,
            BufAlloc = BufferAllocation,
            FwdCnt = fwdCnt,
        };

        if (Take(PendingRx.Rst))
        {
            header.Op = VsockOp.Rst;
            return true;
        }

        if (Take(PendingRx.Response))
        {
            State = VsockConnectionState.Established;
            header.Op = VsockOp.Response;
            return true;
        }

        if (Take(PendingRx.Request))
        {
            Expiry = now + RequestTimeoutMs;
            header.Op = VsockOp.Request;
            return true;
        }

        if (Take(PendingRx.Rw))
        {
            if (TryReceiveData(ref header, buffer, now))
            {
                return true;
            }
        }

        // A credit update wastes a receive buffer: only when there is nothing else to say.
        if (Take(PendingRx.CreditUpdate) && !HasPendingRx)
        {
            header.Op = VsockOp.CreditUpdate;
            lastFwdCntToPeer = fwdCnt;
            return true;
        }

        return false;
    }

    /// <summary>Takes a packet from the guest: data for the socket, or a control packet that moves the state machine.</summary>
    public void Send(in VsockHeader header, GuestIoVectors data, long now)
    {
        peerBufAlloc = header.BufAlloc;
        peerFwdCnt = header.FwdCnt;
        var op = header.Op;
        var state = State;
        if (op == VsockOp.Rw && (state == VsockConnectionState.Established
            || (state == VsockConnectionState.PeerClosed && !closedSend)
            || (state == VsockConnectionState.LocalClosed && !closedReceive)))
        {
            SendData(data);
        }
        else if (op == VsockOp.Response && state == VsockConnectionState.LocalInit)
        {
            Expiry = null;
            State = VsockConnectionState.Established;
        }
        else if (op == VsockOp.Shutdown && state == VsockConnectionState.Established)
        {
            PeerShutdown(header.Flags, alreadyReceive: false, alreadySend: false, now);
        }
        else if (op == VsockOp.Shutdown && state == VsockConnectionState.PeerClosed)
        {
            PeerShutdown(header.Flags, closedReceive, closedSend, now);
        }
        else if (op == VsockOp.Shutdown && state == VsockConnectionState.LocalClosed)
        {
            if ((header.Flags & VsockHeader.ShutdownSend) != 0)
            {
                State = VsockConnectionState.PeerClosed;
                closedReceive = closedSend = true;
                EndWhenDrained(now);
            }
        }
        else if (op == VsockOp.CreditRequest && (state is VsockConnectionState.Established or VsockConnectionState.PeerInit
            || (state == VsockConnectionState.PeerClosed && !closedSend)
            || (state == VsockConnectionState.LocalClosed && !closedReceive)))
        {
            pending |= PendingRx.CreditUpdate;
        }
        else if (op == VsockOp.CreditUpdate && (state is VsockConnectionState.Established or VsockConnectionState.PeerInit
            || (state == VsockConnectionState.PeerClosed && !closedReceive)))
        {
            // The credit fields were taken above.
        }
        else if (Log.IsEnabled(LogLevel.Debug))
        {
            Log.Debug($"vsock: dropping invalid TX pkt for connection: state={State}, pkt.hdr={header}");
        }
    }

    /// <summary>The epoll events the socket should be watched for now; 0 means not at all.</summary>
    public uint PolledEvents()
    {
        uint events = txBuffer.IsEmpty ? 0 : Libc.EpollOut;
        switch (State)
        {
            case VsockConnectionState.Killed:
            case VsockConnectionState.PeerClosed when closedReceive:
                break;
            case VsockConnectionState.LocalClosed when closedSend:
                // The host sent EOF but may still read: watch for the full hang-up only (EPOLLIN would spin on the EOF).
                events |= hostHungUp ? 0 : Libc.EpollHup;
                break;
            default:
                // Nothing to read while the guest has no credit, or while data already waits for a receive buffer.
                if (!NeedsCreditFromPeer && (pending & PendingRx.Rw) == 0)
                {
                    events |= Libc.EpollIn;
                }

                break;
        }

        return events;
    }

    /// <summary>The socket became readable, writable or hung up.</summary>
    public void Notify(uint events)
    {
        if ((events & Libc.EpollHup) != 0)
        {
            hostHungUp = true;
            pending |= PendingRx.Rw;
        }

        if ((events & Libc.EpollIn) != 0)
        {
            pending |= PendingRx.Rw;
        }

        if ((events & Libc.EpollOut) == 0)
        {
            return;
        }

        if (txBuffer.IsEmpty)
        {
            Log.Info("vsock: connection received unexpected EPOLLOUT event");
            return;
        }

        var flushed = txBuffer.FlushTo(stream.Fd);
        if (flushed < 0)
        {
            Log.Warn($"vsock: error flushing TX buf for (lp={LocalPort}, pp={PeerPort}): {OsException.Last().Message}");
            Kill();
            return;
        }

        fwdCnt += (uint)flushed;
        if (State == VsockConnectionState.PeerClosed && closedReceive && closedSend && txBuffer.IsEmpty)
        {
            pending |= PendingRx.Rst;
        }
        else if (State == VsockConnectionState.PeerClosed && closedSend && txBuffer.IsEmpty)
        {
            ShutdownHostWriteSide();
        }
        else if (PeerNeedsCreditUpdate)
        {
            pending |= PendingRx.CreditUpdate;
        }
    }

    /// <summary>Writes straight to the socket, bypassing flow control (the "OK &lt;port&gt;" acknowledgement); the bytes written or -1.</summary>
    public unsafe nint SendRaw(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* data = bytes)
        {
            return Libc.Send(stream.Fd, data, (nuint)bytes.Length, Libc.MsgNoSignal | Libc.MsgDontWait);
        }
    }

    public void Dispose() => stream.Dispose();

    private uint PeerAvailableCredit => peerBufAlloc - (rxCnt - peerFwdCnt);

    private bool NeedsCreditFromPeer => PeerAvailableCredit == 0;

    /// <summary>Whether the free space the guest last heard of is under the threshold.</summary>
    private bool PeerNeedsCreditUpdate => BufferAllocation - (fwdCnt - lastFwdCntToPeer) < CreditUpdateThreshold;

    private bool Take(PendingRx item)
    {
        var had = (pending & item) != 0;
        pending &= ~item;
        return had;
    }

    private bool TryReceiveData(ref VsockHeader header, GuestIoVectors buffer, long now)
    {
        var hostSendClosed = State == VsockConnectionState.LocalClosed && closedSend;
        var dataAllowed = State == VsockConnectionState.Established
            || (State == VsockConnectionState.PeerClosed && !closedReceive)
            || (hostSendClosed && hostHungUp);
        if (!dataAllowed)
        {
            header.Op = VsockOp.Rst;
            return true;
        }

        if (NeedsCreditFromPeer && !hostSendClosed)
        {
            lastFwdCntToPeer = fwdCnt;
            header.Op = VsockOp.CreditRequest;
            return true;
        }

        if (buffer.Total == 0)
        {
            // A receive chain without room for data: the data waits for a proper one.
            pending |= PendingRx.Rw;
            return false;
        }

        var read = buffer.ReadFrom(stream.Fd, Math.Min(buffer.Total, PeerAvailableCredit));
        if (read < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EAgain)
            {
                Log.Warn($"vsock: unexpected EWOULDBLOCK while reading from backing stream: lp={LocalPort}, pp={PeerPort}");
                return false;
            }

            Log.Error($"vsock: error reading from backing stream: lp={LocalPort}, pp={PeerPort}, err={OsException.Describe(errno)}");
            header.Op = VsockOp.Rst;
            lastFwdCntToPeer = fwdCnt;
            return true;
        }

        if (read > 0)
        {
            header.Op = VsockOp.Rw;
            header.Length = (uint)read;
        }
        else if (hostHungUp)
        {
            // End of stream and hang-up: the host neither reads nor writes any more.
            State = VsockConnectionState.LocalClosed;
            closedReceive = closedSend = true;
            Expiry = now + ShutdownTimeoutMs;
            header.Op = VsockOp.Shutdown;
            header.Flags = VsockHeader.ShutdownReceive | VsockHeader.ShutdownSend;
        }
        else if (State == VsockConnectionState.PeerClosed && closedSend)
        {
            // Both sides have stopped sending: end once the buffered guest data is out.
            closedReceive = true;
            if (txBuffer.IsEmpty)
            {
                header.Op = VsockOp.Rst;
            }
            else
            {
                Expiry = now + ShutdownTimeoutMs;
                header.Op = VsockOp.Shutdown;
                header.Flags = VsockHeader.ShutdownSend;
            }
        }
        else
        {
            // The host half-closed: the guest may still send.
            State = VsockConnectionState.LocalClosed;
            closedReceive = false;
            closedSend = true;
            header.Op = VsockOp.Shutdown;
            header.Flags = VsockHeader.ShutdownSend;
        }

        rxCnt += header.Length;
        lastFwdCntToPeer = fwdCnt;
        return true;
    }

    private void SendData(GuestIoVectors data)
    {
        if (data.Total == 0)
        {
            Log.Info($"vsock: dropping empty data packet from guest (lp={LocalPort}, pp={PeerPort}");
            return;
        }

        if (!TryWriteToHost(data, out var error))
        {
            Log.Warn($"vsock: error writing to local stream (lp={LocalPort}, pp={PeerPort}): {error}");
            Kill();
            return;
        }

        if (PeerNeedsCreditUpdate)
        {
            pending |= PendingRx.CreditUpdate;
        }
    }

    /// <summary>Straight to the socket while nothing is buffered; the rest (or everything, behind buffered data) into the TX buffer.</summary>
    private bool TryWriteToHost(GuestIoVectors data, out string error)
    {
        error = "";
        var length = (int)data.Total;
        if (!txBuffer.IsEmpty)
        {
            return TryBuffer(data, 0, length, out error);
        }

        var written = data.WriteTo(stream.Fd);
        if (written < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EAgain)
            {
                error = OsException.Describe(errno);
                return false;
            }

            written = 0;
        }

        fwdCnt += (uint)written;
        return written >= length || TryBuffer(data, (ulong)written, length - (int)written, out error);
    }

    private bool TryBuffer(GuestIoVectors data, ulong offset, int length, out string error)
    {
        error = txBuffer.TryPush(data, offset, length) ? "" : "TX buffer full";
        return error.Length == 0;
    }

    private void PeerShutdown(uint flags, bool alreadyReceive, bool alreadySend, long now)
    {
        var receive = alreadyReceive || (flags & VsockHeader.ShutdownReceive) != 0;
        var send = alreadySend || (flags & VsockHeader.ShutdownSend) != 0;
        State = VsockConnectionState.PeerClosed;
        closedReceive = receive;
        closedSend = send;
        if (receive && send)
        {
            EndWhenDrained(now);
        }
        else if (send && !alreadySend)
        {
            // The guest half-closed its sending side: the host reads EOF.
            ShutdownHostWriteSide();
        }
    }

    /// <summary>RST now if no guest data waits for the socket; otherwise give the buffer a while to drain.</summary>
    private void EndWhenDrained(long now)
    {
        if (txBuffer.IsEmpty)
        {
            pending |= PendingRx.Rst;
        }
        else
        {
            Expiry = now + ShutdownTimeoutMs;
        }
    }

    /// <summary>shutdown(SHUT_WR) once the buffered guest data has gone out (else those bytes would be lost).</summary>
    private void ShutdownHostWriteSide()
    {
        if (hostWriteShutdown || !txBuffer.IsEmpty)
        {
            return;
        }

        if (Libc.Shutdown(stream.Fd, Libc.ShutWr) != 0)
        {
            Log.Warn($"vsock: error shutting down host write side (lp={LocalPort}, pp={PeerPort}): {OsException.Last().Message}");
        }

        hostWriteShutdown = true;
    }
}
