using System.Buffers.Binary;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Net;
using static CloudHypervisor.Tests.Devices.Virtio.Net.NetTestRig;

namespace CloudHypervisor.Tests.Devices.Virtio.Net;

/// <summary>virtio-net through the transport against a socketpair standing in for the TAP: features, config space, frames both ways, the control queue, bad chains.</summary>
public sealed class VirtioNetTests
{
    private const int HeaderSize = Tap.VnetHeaderSize;

    [Fact]
    public void OffersUpstreamsFeaturesAndThreeQueuesOfQueueSize()
    {
        using var rig = new NetTestRig();

        var features = rig.Driver.DeviceFeatures();

        Assert.Equal(VirtioDeviceType.Net, rig.Device.DeviceType);
        Assert.Equal([256, 256, 256], rig.Device.QueueMaxSizes);
        ulong expected = VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | NetFeatures.Mac | NetFeatures.Status | NetFeatures.CtrlVq
            | NetFeatures.Mq | NetFeatures.GuestAnnounce | NetFeatures.Csum | NetFeatures.GuestCsum | NetFeatures.CtrlGuestOffloads
            | NetFeatures.HostTso4 | NetFeatures.HostTso6 | NetFeatures.HostEcn | NetFeatures.GuestTso4 | NetFeatures.GuestTso6
            | NetFeatures.GuestEcn | NetFeatures.HostUfo | NetFeatures.GuestUfo;
        Assert.Equal(expected, features);
        Assert.Equal(0UL, features & VirtioFeatures.RingIndirectDesc);
    }

    [Fact]
    public void OffloadsFollowTheSwitchesAndMtuIsOfferedOnlyWhenSet()
    {
        using var noCsum = new NetTestRig(csum: false);
        using var noTso = new NetTestRig(mtu: 1400, tso: false);

        var off = NetFeatures.Csum | NetFeatures.GuestCsum | NetFeatures.HostTso4 | NetFeatures.GuestTso4 | NetFeatures.HostUfo | NetFeatures.Mtu;
        Assert.Equal(0UL, noCsum.Driver.DeviceFeatures() & off);
        var features = noTso.Driver.DeviceFeatures();
        Assert.NotEqual(0UL, features & NetFeatures.Mtu);
        Assert.NotEqual(0UL, features & NetFeatures.GuestUfo);
        Assert.Equal(0UL, features & (NetFeatures.HostTso4 | NetFeatures.GuestTso6 | NetFeatures.HostEcn));
    }

    [Fact]
    public void ConfigSpaceHoldsMacLinkUpOnePairAndMtu()
    {
        using var rig = new NetTestRig(mtu: 1400);
        var config = new byte[VirtioNet.ConfigLength];

        rig.Device.ReadConfig(0, config);

        Assert.Equal(Mac, config[..6]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(6)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(8)));
        Assert.Equal(1400, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(10)));
        var tail = new byte[4];
        rig.Device.ReadConfig(4, tail);
        Assert.Equal(config[4..8], tail);
    }

    [Fact]
    public void AFrameGatheredFromSeveralDescriptorsLeavesAsOnePacket()
    {
        using var rig = new NetTestRig();
        rig.Start();
        var frame = Frame(0x88b5, "hello from the guest"u8);
        var driver = rig.Driver;
        driver.Memory.GetSpan(0x4_0000, HeaderSize).Clear();
        driver.Memory.Write(0x4_1000, frame.AsSpan(0, 14));
        driver.Memory.Write(0x4_2000, frame.AsSpan(14));
        var table = VirtioGuestDriver.DescTable(Tx);
        driver.WriteDescriptor(table, 0, 0x4_0000, HeaderSize, VirtqDescriptor.FlagNext, 1);
        driver.WriteDescriptor(table, 1, 0x4_1000, 14, VirtqDescriptor.FlagNext, 2);
        driver.WriteDescriptor(table, 2, 0x4_2000, (uint)(frame.Length - 14), 0, 0);
        driver.Publish(Tx, 0);
        driver.Kick(Tx);

        var packet = rig.ReceiveOnHost();

        Assert.NotNull(packet);
        Assert.Equal(new byte[HeaderSize], packet![..HeaderSize]);
        Assert.Equal(frame, packet[HeaderSize..]);
        Assert.True(driver.WaitUsed(Tx, 1));
        Assert.Equal((0u, 0u), driver.UsedEntry(Tx, 0));
        Assert.Equal((ulong)frame.Length, rig.Counter("tx_bytes"));
        Assert.Equal(1UL, rig.Counter("tx_frames"));
        Assert.True(SpinWait.SpinUntil(() => driver.Routing.Triggered.Contains(Tx + 1), 2000), "no MSI-X on the transmit queue's vector");
    }

    [Fact]
    public void APacketWaitingBeforeBuffersArrivesWhenTheDriverPostsOne()
    {
        using var rig = new NetTestRig();
        rig.Start();
        var frame = Frame(0x0800, "to the guest"u8);
        rig.SendFromHost([.. new byte[HeaderSize], .. frame]);
        Thread.Sleep(50);
        Assert.Equal(0, rig.Driver.UsedIdx(Rx));

        rig.Driver.Memory.GetSpan(0x5_0000, 2048).Fill(0xEE);
        var head = rig.Driver.OfferWritable(Rx, (0x5_0000, 2048));
        rig.Driver.Kick(Rx);

        Assert.True(rig.Driver.WaitUsed(Rx, 1), "the frame never reached the receive queue");
        Assert.Equal((head, (uint)(HeaderSize + frame.Length)), rig.Driver.UsedEntry(Rx, 0));
        Assert.Equal(frame, rig.Driver.Memory.GetSpan(0x5_0000 + HeaderSize, frame.Length).ToArray());
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(rig.Driver.Memory.GetSpan(0x5_000A, 2)));
        Assert.Equal((ulong)frame.Length, rig.Counter("rx_bytes"));
        Assert.Equal(1UL, rig.Counter("rx_frames"));
        Assert.True(SpinWait.SpinUntil(() => rig.Driver.Routing.Triggered.Contains(Rx + 1), 2000), "no MSI-X on the receive queue's vector");
    }

    [Fact]
    public void PacketsArrivingLaterFillPostedBuffersOneFrameEachAcrossDescriptors()
    {
        using var rig = new NetTestRig();
        rig.Start();
        // Header split over two descriptors: num_buffers lands across the boundary.
        rig.Driver.OfferWritable(Rx, (0x5_0000, 11), (0x5_1000, 2048));
        rig.Driver.OfferWritable(Rx, (0x6_0000, 2048));
        rig.Driver.Kick(Rx);
        Thread.Sleep(20);

        rig.SendFromHost([.. new byte[HeaderSize], .. Frame(0x88b5, "one"u8)]);
        rig.SendFromHost([.. new byte[HeaderSize], .. Frame(0x88b5, "two"u8)]);

        Assert.True(rig.Driver.WaitUsed(Rx, 2), "both frames should be delivered");
        Assert.Equal((uint)(HeaderSize + 17), rig.Driver.UsedEntry(Rx, 0).Length);
        Assert.Equal(1, rig.Driver.Memory.GetSpan(0x5_000A, 1)[0]);
        Assert.Equal(0, rig.Driver.Memory.GetSpan(0x5_1000, 1)[0]);
        Assert.Equal("one"u8.ToArray(), rig.Driver.Memory.GetSpan(0x5_1000 + 1 + 14, 3).ToArray());
        Assert.Equal("two"u8.ToArray(), rig.Driver.Memory.GetSpan(0x6_0000 + HeaderSize + 14, 3).ToArray());
        Assert.Equal(2UL, rig.Counter("rx_frames"));
    }

    [Theory]
    [InlineData(NetControlQueue.ClassMq, NetControlQueue.CommandMqPairsSet, 1, NetControlQueue.Ok)]
    [InlineData(NetControlQueue.ClassMq, NetControlQueue.CommandMqPairsSet, 2, NetControlQueue.Error)]
    [InlineData(NetControlQueue.ClassAnnounce, NetControlQueue.CommandAnnounceAck, 0, NetControlQueue.Ok)]
    [InlineData(0, 0, 0, NetControlQueue.Error)]
    public void ControlQueueAnswersCommandsAsUpstream(byte commandClass, byte command, ushort data, byte expected)
    {
        using var rig = new NetTestRig();
        rig.Start();

        Assert.Equal(expected, rig.SendControlCommand(Ctrl, commandClass, command, data));
        Assert.Equal(5u, rig.Driver.UsedEntry(Ctrl, 0).Length);
    }

    [Fact]
    public void AWritableDescriptorOnTheTransmitQueueReturnsTheChainWithoutSending()
    {
        using var rig = new NetTestRig();
        rig.Start();
        var table = VirtioGuestDriver.DescTable(Tx);
        rig.Driver.WriteDescriptor(table, 0, 0x4_0000, 64, VirtqDescriptor.FlagWrite, 0);
        rig.Driver.Publish(Tx, 0);
        rig.Driver.Kick(Tx);

        Assert.True(rig.Driver.WaitUsed(Tx, 1));
        Assert.Null(rig.ReceiveOnHost(100));
        Assert.Equal(0UL, rig.Counter("tx_frames"));
    }

    [Fact]
    public void ABrokenTransmitQueueStopsOnlyThatQueue()
    {
        using var rig = new NetTestRig();
        rig.Start();
        rig.Driver.WriteDescriptor(VirtioGuestDriver.DescTable(Tx), 0, 0x4_0000, 64, VirtqDescriptor.FlagNext, 999);
        rig.Driver.Publish(Tx, 0);
        rig.Driver.Kick(Tx);
        Thread.Sleep(50);
        Assert.Equal(0, rig.Driver.UsedIdx(Tx));

        rig.Driver.OfferWritable(Rx, (0x5_0000, 2048));
        rig.Driver.Kick(Rx);
        rig.SendFromHost([.. new byte[HeaderSize], .. Frame(0x88b5, "still"u8)]);

        Assert.True(rig.Driver.WaitUsed(Rx, 1), "receive should keep working");
        Assert.NotEqual(0, rig.Driver.Status & DeviceStatus.NeedsReset);
    }

    [Fact]
    public void AResetStopsTheDeviceAndANewActivationWorks()
    {
        using var rig = new NetTestRig();
        rig.Start();
        rig.Driver.WriteStatus(DeviceStatus.Reset);
        rig.Start();
        rig.Driver.OfferWritable(Rx, (0x5_0000, 2048));
        rig.Driver.Kick(Rx);
        rig.SendFromHost([.. new byte[HeaderSize], .. Frame(0x88b5, "again"u8)]);

        Assert.True(rig.Driver.WaitUsed(Rx, 1));
    }

    private static byte[] Frame(ushort etherType, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[14 + payload.Length];
        Mac.CopyTo(frame, 0);
        new byte[] { 0x02, 0, 0, 0, 0, 1 }.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        payload.CopyTo(frame.AsSpan(14));
        return frame;
    }
}
