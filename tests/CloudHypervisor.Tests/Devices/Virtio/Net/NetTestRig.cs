using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Net;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.Virtio.Net;

/// <summary>
/// A virtio-net device whose "TAP" is one end of a datagram socketpair: like a TAP queue, every
/// read or write is one whole packet (here virtio_net_hdr_v1 + frame). The test holds the other end.
/// </summary>
internal sealed unsafe class NetTestRig : IDisposable
{
    public const int Rx = VirtioNet.ReceiveQueue;
    public const int Tx = VirtioNet.TransmitQueue;
    public const int Ctrl = VirtioNet.ControlQueue;
    public static readonly byte[] Mac = [0x2e, 0x11, 0x22, 0x33, 0x44, 0x55];

    /// <param name="pairs">Queue pairs, each over its own socketpair.</param>
    /// <param name="limits">`bw_*`/`ops_*` of every pair's receive and transmit limiter, on <paramref name="clock"/>.</param>
    public NetTestRig(ushort? mtu = null, bool csum = true, bool tso = true, bool ufo = true, int pairs = 1,
        RateLimiterSettings? limits = null, IMonotonicClock? clock = null, Func<IWakeTimer>? wakeTimers = null)
    {
        var taps = new List<Tap>();
        var fds = stackalloc int[2];
        for (var i = 0; i < pairs; i++)
        {
            if (Libc.SocketPair(Libc.AfUnix, Libc.SockDgram | Libc.SockCloExec | Libc.SockNonBlock, 0, fds) != 0)
            {
                throw new InvalidOperationException("socketpair failed");
            }

            Peers.Add(new SafeFd(fds[1]));
            taps.Add(Tap.Wrap(new SafeFd(fds[0]), "rigtap0"));
        }

        Device = new VirtioNet(taps, new NetDeviceOptions("_net0", Mac, 256, mtu, csum, tso, ufo, limits), clock, wakeTimers);
        Driver = new VirtioGuestDriver(Device);
    }

    public VirtioNet Device { get; }

    public VirtioGuestDriver Driver { get; }

    /// <summary>The host side of the first pair's "TAP".</summary>
    public SafeFd Peer => Peers[0];

    /// <summary>The host side of each pair's "TAP".</summary>
    public List<SafeFd> Peers { get; } = [];

    /// <summary>Negotiates <paramref name="features"/>, sets up every pair's receive and transmit queues and the control queue, and sets DRIVER_OK.</summary>
    public void Start(ulong features = VirtioFeatures.Version1 | NetFeatures.Mac | NetFeatures.CtrlVq)
    {
        Driver.EnableMsix();
        Assert.Equal(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk, Driver.Negotiate(features));
        for (var q = 0; q <= 2 * Peers.Count; q++)
        {
            Driver.SetupQueue(q, 256);
        }

        Driver.DriverOk();
        Assert.Equal(DeviceStatus.Ready, Driver.Status);
    }

    /// <summary>The host sends one packet towards the guest.</summary>
    public void SendFromHost(ReadOnlySpan<byte> packet, int pair = 0)
    {
        fixed (byte* p = packet)
        {
            Assert.Equal(packet.Length, (int)Libc.Send(Peers[pair].Fd, p, (nuint)packet.Length, 0));
        }
    }

    /// <summary>The next packet the guest sent, or null if none came within <paramref name="timeoutMs"/>.</summary>
    public byte[]? ReceiveOnHost(int timeoutMs = 5000, int pair = 0)
    {
        var buffer = new byte[65536];
        var deadline = Environment.TickCount64 + timeoutMs;
        fixed (byte* p = buffer)
        {
            while (Environment.TickCount64 < deadline)
            {
                var n = Libc.Recv(Peers[pair].Fd, p, (nuint)buffer.Length, Libc.MsgDontWait);
                if (n >= 0)
                {
                    return buffer[..(int)n];
                }

                Thread.Sleep(5);
            }
        }

        return null;
    }

    public ulong Counter(string name)
    {
        foreach (var (key, value) in Device.Counters.Snapshot())
        {
            if (key == name)
            {
                return value;
            }
        }

        throw new KeyNotFoundException(name);
    }

    /// <summary>Sends one control command (class, command, a 2-byte argument) on control queue <paramref name="queue"/>
    /// as a three-descriptor chain and returns the ack byte the device wrote.</summary>
    public byte SendControlCommand(int queue, byte commandClass, byte command, ushort data)
    {
        Driver.Memory.Write(0x7_0000, [commandClass, command]);
        Driver.Memory.WriteValue(0x7_1000, data);
        Driver.Memory.Write(0x7_2000, [0xFF]);
        var table = VirtioGuestDriver.DescTable(queue);
        Driver.WriteDescriptor(table, 0, 0x7_0000, 2, VirtqDescriptor.FlagNext, 1);
        Driver.WriteDescriptor(table, 1, 0x7_1000, 2, VirtqDescriptor.FlagNext, 2);
        Driver.WriteDescriptor(table, 2, 0x7_2000, 1, VirtqDescriptor.FlagWrite, 0);
        Driver.Publish(queue, 0);
        Driver.Kick(queue);
        Assert.True(Driver.WaitUsed(queue, 1), "the control command was not answered");
        return Driver.Memory.GetSpan(0x7_2000, 1)[0];
    }

    public void Dispose()
    {
        Driver.Dispose();
        foreach (var peer in Peers)
        {
            peer.Dispose();
        }
    }
}
