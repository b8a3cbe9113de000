using System.Buffers.Binary;
using CloudHypervisor.Devices.Virtio.Net;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.Virtio.Fuzz;

/// <summary>
/// Random ring contents thrown at virtio-net's queue processing: the receive and transmit paths of a queue pair
/// whose "TAP" is a datagram socketpair the test feeds and drains, and the control queue. Nothing escapes,
/// used entries stay sane, frames still cross.
/// </summary>
public sealed unsafe class NetFuzzTests : IDisposable
{
    private readonly SafeFd device;
    private readonly SafeFd peer;

    public NetFuzzTests()
    {
        var fds = stackalloc int[2];
        Assert.Equal(0, Libc.SocketPair(Libc.AfUnix, Libc.SockDgram | Libc.SockCloExec | Libc.SockNonBlock, 0, fds));
        device = new SafeFd(fds[0]);
        peer = new SafeFd(fds[1]);
    }

    public void Dispose()
    {
        device.Dispose();
        peer.Dispose();
    }

    [Fact]
    public void QueuePairSurvivesRandomReceiveAndTransmitRings()
    {
        var counters = new NetCounters();
        var pair = new NetQueuePair("_net0", device.Fd, 256, counters);
        var frame = new byte[1600];

        DeviceFuzz.Run([256, 256], seed: 8080, rounds: 600, binding =>
        {
            if (binding.Index == 0)
                pair.Receive(binding.Queue);
            else
                pair.Transmit(binding.Queue);
        }, beforeRound: (_, random) =>
        {
            // A few packets waiting on the "TAP" for the receive path; drain what transmit sent.
            for (var i = random.Next(0, 4); i > 0; i--)
            {
                var length = random.Next(1, frame.Length);
                random.NextBytes(frame.AsSpan(0, length));
                fixed (byte* p = frame)
                    Libc.Send(peer.Fd, p, (nuint)length, 0);
            }

            fixed (byte* p = frame)
                while ((long)Libc.Recv(peer.Fd, p, (nuint)frame.Length, 0) > 0)
                {
                }
        });

        var moved = counters.Snapshot().ToDictionary(c => c.Key, c => c.Value);
        Assert.True(moved["rx_frames"] > 0 && moved["tx_frames"] > 0,
            $"frames must cross both ways (rx {moved["rx_frames"]}, tx {moved["tx_frames"]})");
    }

    [Fact]
    public void ControlQueueSurvivesRandomCommands()
    {
        using var tap = Tap.Wrap(new SafeFd(Libc.Dup(device.Fd)), "fuzztap0");
        var control = new NetControlQueue("_net0", [tap], maxPairs: 4);
        byte[] classes = [NetControlQueue.ClassMq, NetControlQueue.ClassGuestOffloads, NetControlQueue.ClassAnnounce, 0, 99];

        DeviceFuzz.Run([64], seed: 5353, rounds: 400, binding => control.Process(binding.Queue), maxLength: 16, beforeRound: (fuzzer, random) =>
        {
            // Plausible command headers (class, command) followed by a pair count or offload mask.
            var area = fuzzer.Buffers;
            for (var offset = 0; offset + 16 <= area.Length; offset += 16)
            {
                area[offset] = classes[random.Next(classes.Length)];
                area[offset + 1] = (byte)random.Next(0, 3);
                BinaryPrimitives.WriteUInt64LittleEndian(area[(offset + 2)..], (ulong)random.Next(0, 6));
            }
        });
    }
}
