using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Vsock;

namespace CloudHypervisor.Tests.Devices.Virtio.Vsock;

/// <summary>
/// A virtio-vsock device (guest cid 3) over a socket in a temporary directory, with the test playing the
/// guest driver through <see cref="VirtioGuestDriver"/>: receive buffers are posted as the Linux driver
/// before 6.3 does (a 44-byte header descriptor and a 4 KiB data descriptor), transmitted packets are a
/// header descriptor plus an optional data descriptor. The device's real I/O thread serves the queues.
/// </summary>
internal sealed class VsockTestRig : IDisposable
{
    public const int Rx = VirtioVsock.RxQueue;
    public const int Tx = VirtioVsock.TxQueue;
    public const int Events = VirtioVsock.EventQueue;
    public const ulong GuestCid = 3;
    public const int RxDataSize = 4096;

    private const ulong RxBuffers = 0x2_0000;
    private const ulong RxBufferStride = 0x1100;
    private const ulong TxHeader = 0x5_0000;
    private const ulong TxData = 0x5_1000;

    private readonly DirectoryInfo directory;
    private readonly List<Socket> hostSockets = [];
    private ushort rxPosted;
    private ushort rxTaken;
    private ushort txSent;

    public VsockTestRig()
    {
        directory = Directory.CreateTempSubdirectory("ch-vsock-");
        SocketPath = Path.Combine(directory.FullName, "v.sock");
        Device = VirtioVsock.Create("_vsock0", GuestCid, SocketPath);
        Driver = new VirtioGuestDriver(Device);
    }

    public string SocketPath { get; }

    public VirtioVsock Device { get; }

    public VirtioGuestDriver Driver { get; }

    public static VsockHeader Packet(VsockOp op, uint srcPort, uint dstPort, uint bufAlloc = 65536, uint fwdCnt = 0) => new()
    {
        SrcCid = GuestCid,
        DstCid = VsockHeader.HostCid,
        SrcPort = srcPort,
        DstPort = dstPort,
        Type = VsockHeader.TypeStream,
        Op = op,
        BufAlloc = bufAlloc,
        FwdCnt = fwdCnt,
    };

    /// <summary>Negotiates VERSION_1 and IN_ORDER, sets up the three queues (256 each) and posts <paramref name="rxBuffers"/> receive buffers.</summary>
    public void Start(int rxBuffers = 8)
    {
        Driver.EnableMsix();
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk,
            Driver.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.InOrder));
        Driver.SetupQueue(Rx, 256);
        Driver.SetupQueue(Tx, 256);
        Driver.SetupQueue(Events, 256);
        Driver.DriverOk();
        Assert.Equal(DeviceStatus.Ready, Driver.Status);
        PostRx(rxBuffers);
    }

    /// <summary>Makes <paramref name="count"/> more receive buffers available (at most 32 outstanding) and notifies.</summary>
    public void PostRx(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var slot = (ushort)(rxPosted % 32);
            var head = (ushort)(2 * (rxPosted % 128));
            var header = RxBuffers + slot * RxBufferStride;
            Driver.WriteDescriptor(VirtioGuestDriver.DescTable(Rx), head, header, VsockHeader.Size,
                VirtqDescriptor.FlagWrite | VirtqDescriptor.FlagNext, (ushort)(head + 1));
            Driver.WriteDescriptor(VirtioGuestDriver.DescTable(Rx), head + 1, header + 0x40, RxDataSize, VirtqDescriptor.FlagWrite, 0);
            Driver.Publish(Rx, head);
            rxPosted++;
        }

        Driver.Kick(Rx);
    }

    /// <summary>Transmits one packet (its len set to the payload's length) and waits for the device to use it.</summary>
    public void Send(VsockHeader header, ReadOnlySpan<byte> payload = default)
    {
        header.Length = (uint)payload.Length;
        header.Write(Driver.Memory.GetSpan(TxHeader, VsockHeader.Size));
        Driver.Memory.Write(TxData, payload);
        var head = (ushort)(2 * (txSent % 128));
        var table = VirtioGuestDriver.DescTable(Tx);
        Driver.WriteDescriptor(table, head, TxHeader, VsockHeader.Size, payload.IsEmpty ? (ushort)0 : VirtqDescriptor.FlagNext, (ushort)(head + 1));
        Driver.WriteDescriptor(table, head + 1, TxData, (uint)payload.Length, 0, 0);
        SendChain(head);
    }

    /// <summary>Publishes chain <paramref name="head"/> (already written to the transmit table) and waits for it to be used.</summary>
    public void SendChain(ushort head)
    {
        Driver.Publish(Tx, head);
        txSent++;
        Driver.Kick(Tx);
        Assert.True(Driver.WaitUsed(Tx, txSent), $"transmit chain {txSent} was not used");
    }

    /// <summary>The next packet the device delivered, with its data; null when none arrives within <paramref name="timeoutMs"/>.</summary>
    public (VsockHeader Header, byte[] Data, uint UsedLength)? Receive(int timeoutMs = 5000)
    {
        if (!Driver.WaitUsed(Rx, (ushort)(rxTaken + 1), timeoutMs))
        {
            return null;
        }

        var (id, length) = Driver.UsedEntry(Rx, rxTaken % 256);
        rxTaken++;
        var slot = (ulong)(id / 2 % 32);
        var header = VsockHeader.Read(Driver.Memory.GetSpan(RxBuffers + slot * RxBufferStride, VsockHeader.Size));
        var data = Driver.Memory.GetSpan(RxBuffers + slot * RxBufferStride + 0x40, (int)Math.Min(header.Length, RxDataSize)).ToArray();
        return (header, data, length);
    }

    /// <summary>The next packet, which must come.</summary>
    public (VsockHeader Header, byte[] Data, uint UsedLength) Expect(VsockOp op)
    {
        var packet = Receive();
        Assert.True(packet is not null, $"no {op} packet arrived");
        Assert.Equal(op, packet.Value.Header.Op);
        return packet.Value;
    }

    /// <summary>A listener on "&lt;socket&gt;_<paramref name="port"/>", where guest connections to host port <paramref name="port"/> go.</summary>
    public Socket ListenOnHostPort(uint port)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint($"{SocketPath}_{port}"));
        listener.Listen();
        hostSockets.Add(listener);
        return listener;
    }

    /// <summary>A host client of the device's socket that has sent <paramref name="command"/>.</summary>
    public Socket ConnectFromHost(string command)
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
        client.Connect(new UnixDomainSocketEndPoint(SocketPath));
        client.Send(Encoding.ASCII.GetBytes(command));
        hostSockets.Add(client);
        return client;
    }

    /// <summary>Reads until <paramref name="count"/> bytes came or the peer closed.</summary>
    public static byte[] ReadHost(Socket socket, int count)
    {
        var buffer = new byte[count];
        var total = 0;
        while (total < count)
        {
            var n = socket.Receive(buffer, total, count - total, SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return buffer[..total];
    }

    /// <summary>Whether the peer closed the socket (a read sees end of stream within the receive timeout).</summary>
    public static bool SeesEndOfStream(Socket socket)
    {
        try
        {
            return socket.Receive(new byte[64]) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        foreach (var socket in hostSockets)
        {
            socket.Dispose();
        }

        Driver.Dispose();
        Device.Dispose();
        directory.Delete(recursive: true);
    }
}
