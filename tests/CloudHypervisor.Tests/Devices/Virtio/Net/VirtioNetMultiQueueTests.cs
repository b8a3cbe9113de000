using System.Buffers.Binary;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Net;

namespace CloudHypervisor.Tests.Devices.Virtio.Net;

/// <summary>
/// Multi-queue virtio-net through the transport: two pairs over two "TAP queues" (queues 0–3) and the control
/// queue after them (4); MQ with max_virtqueue_pairs, VQ_PAIRS_SET, and frames on the second pair's own TAP queue.
/// </summary>
public sealed class VirtioNetMultiQueueTests
{
    private const int HeaderSize = Tap.VnetHeaderSize;
    private const int Rx1 = 2, Tx1 = 3, Ctrl = 4;

    [Fact]
    public void TwoPairsOfferMqWithMaxVirtqueuePairs2AndFiveQueues()
    {
        using var rig = new NetTestRig(pairs: 2);
        var config = new byte[VirtioNet.ConfigLength];

        rig.Device.ReadConfig(0, config);

        Assert.NotEqual(0UL, rig.Driver.DeviceFeatures() & NetFeatures.Mq);
        Assert.Equal([256, 256, 256, 256, 256], rig.Device.QueueMaxSizes);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(8)));
        Assert.Equal(Ctrl, rig.Device.ControlQueueIndex);
    }

    [Theory]
    [InlineData(1, NetControlQueue.Ok)]
    [InlineData(2, NetControlQueue.Ok)]
    [InlineData(3, NetControlQueue.Error)]
    [InlineData(0, NetControlQueue.Error)]
    public void VqPairsSetOnTheControlQueueAfterThePairsAcceptsUpToMaxPairs(ushort pairs, byte expected)
    {
        using var rig = new NetTestRig(pairs: 2);
        rig.Start(VirtioFeatures.Version1 | NetFeatures.Mac | NetFeatures.CtrlVq | NetFeatures.Mq);

        Assert.Equal(expected, rig.SendControlCommand(Ctrl, NetControlQueue.ClassMq, NetControlQueue.CommandMqPairsSet, pairs));
    }

    [Fact]
    public void ADriverWithoutMqFindsTheControlQueueAfterTheFirstPair()
    {
        using var rig = new NetTestRig(pairs: 2);
        var driver = rig.Driver;
        driver.EnableMsix();
        driver.Negotiate(VirtioFeatures.Version1 | NetFeatures.Mac | NetFeatures.CtrlVq);
        for (var q = 0; q < 3; q++)
        {
            driver.SetupQueue(q, 256);
        }

        driver.DriverOk();
        driver.Memory.Write(0x7_0000, [NetControlQueue.ClassAnnounce, NetControlQueue.CommandAnnounceAck]);
        driver.Memory.Write(0x7_2000, [0xFF]);
        var table = VirtioGuestDriver.DescTable(2);
        driver.WriteDescriptor(table, 0, 0x7_0000, 2, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(table, 1, 0x7_1000, 1, VirtqDescriptor.FlagNext, 2);
        driver.WriteDescriptor(table, 2, 0x7_2000, 1, VirtqDescriptor.FlagWrite, 0);
        driver.Publish(2, 0);
        driver.Kick(2);

        Assert.True(driver.WaitUsed(2, 1));
        Assert.Equal(NetControlQueue.Ok, driver.Memory.GetSpan(0x7_2000, 1)[0]);
    }

    [Fact]
    public void TheSecondPairSendsAndReceivesOnItsOwnTapQueueOnItsOwnThread()
    {
        using var rig = new NetTestRig(pairs: 2);
        rig.Start(VirtioFeatures.Version1 | NetFeatures.Mac | NetFeatures.CtrlVq | NetFeatures.Mq);
        var driver = rig.Driver;

        var outgoing = Frame(0x88b5, "out on pair 1"u8);
        driver.Memory.GetSpan(0x4_0000, HeaderSize).Clear();
        driver.Memory.Write(0x4_0000 + HeaderSize, outgoing);
        driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx1), 0, 0x4_0000, (uint)(HeaderSize + outgoing.Length), 0, 0);
        driver.Publish(Tx1, 0);
        driver.Kick(Tx1);

        var sent = rig.ReceiveOnHost(pair: 1);
        Assert.NotNull(sent);
        Assert.Equal(outgoing, sent[HeaderSize..]);
        Assert.Null(rig.ReceiveOnHost(timeoutMs: 100, pair: 0));

        var incoming = Frame(0x88b5, "in on pair 1"u8);
        driver.OfferWritable(Rx1, (0x6_0000, 2048));
        driver.Kick(Rx1);
        rig.SendFromHost([.. new byte[HeaderSize], .. incoming], pair: 1);

        Assert.True(driver.WaitUsed(Rx1, 1));
        Assert.Equal((uint)(HeaderSize + incoming.Length), driver.UsedEntry(Rx1, 0).Length);
        Assert.Equal(incoming, driver.Memory.GetSpan(0x6_0000 + HeaderSize, incoming.Length).ToArray());
        Assert.Equal(0, driver.UsedIdx(0));
        Assert.Contains("_net0_qp1", ThreadNames());
    }

    internal static byte[] Frame(ushort etherType, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[14 + payload.Length];
        frame.AsSpan(0, 6).Fill(0xFF);
        NetTestRig.Mac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        payload.CopyTo(frame.AsSpan(14));
        return frame;
    }

    private static string[] ThreadNames() =>
        [.. Directory.GetDirectories("/proc/self/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim())];
}
