using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Vsock;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Tests.Devices.Virtio.Vsock;

public sealed class VirtioVsockTests
{
    private const uint FirstLocalPort = 1u << 30;

    [Fact]
    public void OffersUpstreamsFeaturesQueuesAndDeviceId()
    {
        using var rig = new VsockTestRig();

        Assert.Equal(VirtioDeviceType.Vsock, rig.Device.DeviceType);
        Assert.Equal(19, (int)rig.Device.DeviceType);
        Assert.Equal([256, 256, 256], rig.Device.QueueMaxSizes);
        Assert.Equal(VirtioFeatures.Version1 | VirtioFeatures.InOrder, rig.Driver.DeviceFeatures());
        Assert.Equal(8, rig.Device.ConfigSize);
    }

    [Fact]
    public void ConfigSpaceHoldsTheGuestCidAsUpstreamServesIt()
    {
        using var directory = new TempDirectory();
        using var device = VirtioVsock.Create("_vsock0", 0x1_0000_0005, Path.Combine(directory.Path, "v.sock"));

        Span<byte> eight = stackalloc byte[8];
        device.ReadConfig(0, eight);
        Assert.Equal(0x1_0000_0005UL, BinaryPrimitives.ReadUInt64LittleEndian(eight));

        Span<byte> four = stackalloc byte[4];
        device.ReadConfig(0, four);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(four));
        device.ReadConfig(4, four);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(four));

        // Anything but a whole cid or one of its halves leaves the buffer as it was.
        byte[] untouched = [9, 9, 9, 9, 9, 9, 9, 9];
        device.ReadConfig(2, untouched);
        Assert.Equal([9, 9, 9, 9, 9, 9, 9, 9], untouched);
    }

    [Fact]
    public void AnExistingFileAtTheSocketPathFailsCreationWithUpstreamsErrorChain()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "v.sock");
        File.WriteAllText(path, "");

        var error = Assert.Throws<VirtioException>(() => VirtioVsock.Create("_vsock0", 3, path));

        Assert.Equal("Cannot create virtio-vsock backend", error.Message);
        Assert.Equal("Error binding to the host-side Unix socket", error.InnerException!.Message);
        Assert.Equal(98, Assert.IsType<OsException>(error.InnerException.InnerException).Errno);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void TheSocketIsListeningWhileTheDeviceLivesAndRemovedAfter()
    {
        var rig = new VsockTestRig();
        var path = rig.SocketPath;
        using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            client.Connect(new UnixDomainSocketEndPoint(path));
        }

        rig.Device.Dispose();
        Assert.False(File.Exists(path));
        rig.Dispose();
    }

    [Fact]
    public void GuestConnectionToAListeningHostPortIsAnsweredAndCarriesDataBothWays()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(1234);
        rig.Start();

        rig.Send(VsockTestRig.Packet(VsockOp.Request, 5000, 1234));
        var (response, _, length) = rig.Expect(VsockOp.Response);
        Assert.Equal(VsockHeader.HostCid, response.SrcCid);
        Assert.Equal(VsockTestRig.GuestCid, response.DstCid);
        Assert.Equal(1234u, response.SrcPort);
        Assert.Equal(5000u, response.DstPort);
        Assert.Equal(VsockHeader.TypeStream, response.Type);
        Assert.Equal(65536u, response.BufAlloc);
        Assert.Equal((uint)VsockHeader.Size, length);

        using var host = listener.Accept();
        host.ReceiveTimeout = 5000;
        rig.Send(VsockTestRig.Packet(VsockOp.Rw, 5000, 1234), "ping from the guest"u8);
        Assert.Equal("ping from the guest", Encoding.ASCII.GetString(VsockTestRig.ReadHost(host, 19)));

        host.Send("pong"u8);
        var (data, payload, used) = rig.Expect(VsockOp.Rw);
        Assert.Equal("pong", Encoding.ASCII.GetString(payload));
        Assert.Equal(4u, data.Length);
        Assert.Equal((uint)VsockHeader.Size + 4, used);
        Assert.Equal(19u, data.FwdCnt);
    }

    [Fact]
    public void ARequestForAPortNobodyListensOnIsReset()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        rig.Send(VsockTestRig.Packet(VsockOp.Request, 5000, 4321));

        var (rst, _, _) = rig.Expect(VsockOp.Rst);
        Assert.Equal(4321u, rst.SrcPort);
        Assert.Equal(5000u, rst.DstPort);
        Assert.Equal(VsockTestRig.GuestCid, rst.DstCid);
    }

    [Theory]
    [InlineData(VsockOp.Rw)]
    [InlineData(VsockOp.Response)]
    [InlineData(VsockOp.Shutdown)]
    [InlineData(VsockOp.CreditUpdate)]
    [InlineData(VsockOp.CreditRequest)]
    public void PacketsForNoConnectionAreReset(VsockOp op)
    {
        using var rig = new VsockTestRig();
        rig.Start();

        rig.Send(VsockTestRig.Packet(op, 5000, 77), op == VsockOp.Rw ? "x"u8 : default);

        var (rst, _, _) = rig.Expect(VsockOp.Rst);
        Assert.Equal((77u, 5000u), (rst.SrcPort, rst.DstPort));
    }

    [Fact]
    public void DatagramPacketsAreResetAndPacketsForOtherCidsDropped()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        var other = VsockTestRig.Packet(VsockOp.Request, 5000, 77);
        other.DstCid = 9;
        rig.Send(other);
        var datagram = VsockTestRig.Packet(VsockOp.Request, 5001, 78);
        datagram.Type = 2;
        rig.Send(datagram);

        var (rst, _, _) = rig.Expect(VsockOp.Rst);
        Assert.Equal((78u, 5001u), (rst.SrcPort, rst.DstPort));
        Assert.Null(rig.Receive(300));
    }

    [Fact]
    public void AnOrphanResetIsNotAnswered()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        rig.Send(VsockTestRig.Packet(VsockOp.Rst, 5000, 77));

        Assert.Null(rig.Receive(300));
    }

    [Fact]
    public void HostConnectBecomesARequestAndTheGuestsResponseAnOk()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        using var client = rig.ConnectFromHost("CONNECT 52\n");
        var (request, _, _) = rig.Expect(VsockOp.Request);
        Assert.Equal(52u, request.DstPort);
        Assert.Equal(FirstLocalPort, request.SrcPort);
        Assert.Equal(VsockHeader.HostCid, request.SrcCid);
        Assert.Equal(VsockTestRig.GuestCid, request.DstCid);

        rig.Send(VsockTestRig.Packet(VsockOp.Response, 52, FirstLocalPort));
        Assert.Equal($"OK {FirstLocalPort}\n", Encoding.ASCII.GetString(VsockTestRig.ReadHost(client, 14)));

        client.Send("to the guest"u8);
        var (_, payload, _) = rig.Expect(VsockOp.Rw);
        Assert.Equal("to the guest", Encoding.ASCII.GetString(payload));
        rig.Send(VsockTestRig.Packet(VsockOp.Rw, 52, FirstLocalPort), "to the host"u8);
        Assert.Equal("to the host", Encoding.ASCII.GetString(VsockTestRig.ReadHost(client, 11)));
    }

    [Fact]
    public void LowerCaseConnectAndBytesAfterTheNewlineAreTheClientsFirstData()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        using var client = rig.ConnectFromHost("connect  7 \nearly");
        var (request, _, _) = rig.Expect(VsockOp.Request);
        Assert.Equal(7u, request.DstPort);
        rig.Send(VsockTestRig.Packet(VsockOp.Response, 7, request.SrcPort));
        Assert.Equal($"OK {request.SrcPort}\n", Encoding.ASCII.GetString(VsockTestRig.ReadHost(client, 14)));

        var (_, payload, _) = rig.Expect(VsockOp.Rw);
        Assert.Equal("early", Encoding.ASCII.GetString(payload));
    }

    [Fact]
    public void SecondHostClientGetsTheNextLocalPort()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        using var first = rig.ConnectFromHost("CONNECT 1\n");
        Assert.Equal(FirstLocalPort, rig.Expect(VsockOp.Request).Header.SrcPort);
        using var second = rig.ConnectFromHost("CONNECT 1\n");
        Assert.Equal(FirstLocalPort + 1, rig.Expect(VsockOp.Request).Header.SrcPort);
    }

    [Fact]
    public void AGuestResetOfAHostConnectionClosesTheHostSocket()
    {
        using var rig = new VsockTestRig();
        rig.Start();

        using var client = rig.ConnectFromHost("CONNECT 99\n");
        var (request, _, _) = rig.Expect(VsockOp.Request);
        rig.Send(VsockTestRig.Packet(VsockOp.Rst, 99, request.SrcPort));

        Assert.True(VsockTestRig.SeesEndOfStream(client));
    }

    [Theory]
    [InlineData("HELLO 5\n")]
    [InlineData("conn\n")]
    [InlineData("connect abc\n")]
    [InlineData("connect -1\n")]
    [InlineData("connect 4294967296\n")]
    [InlineData("connect \n")]
    [InlineData("Connect 5\n")]
    [InlineData("connect 00000000000000000000005\n")] // 32 bytes with the newline: too long for upstream's buffer
    [InlineData("connect 5")] // then the client closes: end of stream before the newline
    public void BadConnectLinesCloseTheClientWithoutAnswer(string line)
    {
        using var rig = new VsockTestRig();
        rig.Start();

        using var client = rig.ConnectFromHost(line);
        if (!line.EndsWith('\n'))
        {
            client.Shutdown(SocketShutdown.Send);
        }

        Assert.True(VsockTestRig.SeesEndOfStream(client));
        Assert.Null(rig.Receive(200));
    }

    [Theory]
    [InlineData("connect 5\n", "Complete", 5u)]
    [InlineData("CONNECT +5\n", "Complete", 5u)]
    [InlineData("CONNECT 4294967295\n", "Complete", uint.MaxValue)]
    [InlineData("CONNECT 5", "Incomplete", 0u)]
    [InlineData("connect 0000000000000000000005\n", "Complete", 5u)]
    [InlineData("CONN", "Incomplete", 0u)]
    [InlineData("CONNECT", "Incomplete", 0u)]
    [InlineData("CONNECTX5\n", "Invalid", 0u)]
    [InlineData("connect 0x10\n", "Invalid", 0u)]
    public void ConnectLinesParseAsUpstreams(string line, string status, uint port)
    {
        Assert.Equal(status, HostConnectRequest.Parse(Encoding.ASCII.GetBytes(line), out var parsed).ToString());
        Assert.Equal(port, parsed);
    }

    [Fact]
    public void HostDataIsLimitedToTheGuestsCreditUntilTheGuestGrantsMore()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(10);
        rig.Start();
        rig.Send(VsockTestRig.Packet(VsockOp.Request, 600, 10, bufAlloc: 16));
        rig.Expect(VsockOp.Response);
        using var host = listener.Accept();

        host.Send(new byte[100]);
        var (first, _, _) = rig.Expect(VsockOp.Rw);
        Assert.Equal(16u, first.Length);
        Assert.Null(rig.Receive(300)); // the other 84 bytes wait for credit

        rig.PostRx(4);
        rig.Send(VsockTestRig.Packet(VsockOp.CreditUpdate, 600, 10, bufAlloc: 16, fwdCnt: 16));
        var (second, _, _) = rig.Expect(VsockOp.Rw);
        Assert.Equal(16u, second.Length);
    }

    [Fact]
    public void TheDeviceSendsACreditUpdateWhenTheGuestsViewOfItsBufferRunsLow()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(11);
        rig.Start();
        rig.Send(VsockTestRig.Packet(VsockOp.Request, 601, 11));
        rig.Expect(VsockOp.Response);
        using var host = listener.Accept();
        host.ReceiveTimeout = 5000;

        var chunk = new byte[4096];
        for (var i = 0; i < 15; i++)
        {
            rig.Send(VsockTestRig.Packet(VsockOp.Rw, 601, 11), chunk);
        }

        Assert.Null(rig.Receive(200)); // 60 KiB forwarded: the guest still sees 4 KiB free.
        rig.Send(VsockTestRig.Packet(VsockOp.Rw, 601, 11), chunk.AsSpan(0, 1));
        var (update, _, _) = rig.Expect(VsockOp.CreditUpdate);
        Assert.Equal(15u * 4096 + 1, update.FwdCnt);
        Assert.Equal(15 * 4096 + 1, VsockTestRig.ReadHost(host, 15 * 4096 + 1).Length);
    }

    [Fact]
    public void ACreditRequestIsAnsweredWithTheForwardedCount()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(12);
        rig.Start();
        rig.Send(VsockTestRig.Packet(VsockOp.Request, 602, 12));
        rig.Expect(VsockOp.Response);
        rig.Send(VsockTestRig.Packet(VsockOp.Rw, 602, 12), "abc"u8);

        rig.Send(VsockTestRig.Packet(VsockOp.CreditRequest, 602, 12));

        var (update, _, _) = rig.Expect(VsockOp.CreditUpdate);
        Assert.Equal(3u, update.FwdCnt);
        Assert.Equal(65536u, update.BufAlloc);
    }

    [Fact]
    public void GuestShutdownIsAnsweredWithResetAndTheHostSeesEndOfStream()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(13);
        rig.Start();
        rig.Send(VsockTestRig.Packet(VsockOp.Request, 603, 13));
        rig.Expect(VsockOp.Response);
        using var host = listener.Accept();
        host.ReceiveTimeout = 5000;

        var shutdown = VsockTestRig.Packet(VsockOp.Shutdown, 603, 13);
        shutdown.Flags = VsockHeader.ShutdownReceive | VsockHeader.ShutdownSend;
        rig.Send(shutdown);

        rig.Expect(VsockOp.Rst);
        Assert.True(VsockTestRig.SeesEndOfStream(host));
    }

    [Fact]
    public void HostCloseBecomesAShutdownOfBothDirections()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(14);
        rig.Start();
        rig.Send(VsockTestRig.Packet(VsockOp.Request, 604, 14));
        rig.Expect(VsockOp.Response);

        listener.Accept().Dispose();

        var (shutdown, _, _) = rig.Expect(VsockOp.Shutdown);
        Assert.Equal(VsockHeader.ShutdownReceive | VsockHeader.ShutdownSend, shutdown.Flags);
    }

    [Fact]
    public void MalformedPacketsAreDroppedAndTheDeviceCarriesOn()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(15);
        rig.Start();
        var table = VirtioGuestDriver.DescTable(VsockTestRig.Tx);

        // A header descriptor shorter than 44 bytes.
        rig.Driver.WriteDescriptor(table, 100, 0x5_0000, 20, 0, 0);
        rig.SendChain(100);

        // A device-writable header.
        rig.Driver.WriteDescriptor(table, 101, 0x5_0000, VsockHeader.Size, VirtqDescriptor.FlagWrite, 0);
        rig.SendChain(101);

        // len beyond upstream's 64 KiB packet limit, and len larger than the data descriptor.
        foreach (var (len, dataLength) in new[] { (65537u, 65537u), (100u, 10u) })
        {
            var header = VsockTestRig.Packet(VsockOp.Request, 605, 15);
            header.Length = len;
            header.Write(rig.Driver.Memory.GetSpan(0x5_0000, VsockHeader.Size));
            rig.Driver.WriteDescriptor(table, 102, 0x5_0000, VsockHeader.Size, VirtqDescriptor.FlagNext, 103);
            rig.Driver.WriteDescriptor(table, 103, 0x6_0000, dataLength, 0, 0);
            rig.SendChain(102);
        }

        Assert.Null(rig.Receive(200));

        rig.Send(VsockTestRig.Packet(VsockOp.Request, 605, 15));
        rig.Expect(VsockOp.Response);
    }

    [Fact]
    public void AnUnusableReceiveChainIsReturnedEmpty()
    {
        using var rig = new VsockTestRig();
        rig.Start(rxBuffers: 0);
        var table = VirtioGuestDriver.DescTable(VsockTestRig.Rx);
        rig.Driver.WriteDescriptor(table, 200, 0x3_0000, VsockHeader.Size, 0, 0); // device-readable
        rig.Driver.Publish(VsockTestRig.Rx, 200);

        rig.Send(VsockTestRig.Packet(VsockOp.Request, 606, 16)); // answered with an RST, which needs a buffer

        Assert.True(rig.Driver.WaitUsed(VsockTestRig.Rx, 1));
        Assert.Equal((200u, 0u), rig.Driver.UsedEntry(VsockTestRig.Rx, 0));
    }

    [Fact]
    public void ALoopingTransmitChainStopsTheQueue()
    {
        using var rig = new VsockTestRig();
        rig.Start();
        var table = VirtioGuestDriver.DescTable(VsockTestRig.Tx);
        var header = VsockTestRig.Packet(VsockOp.Rw, 607, 17);
        header.Length = 10;
        header.Write(rig.Driver.Memory.GetSpan(0x5_0000, VsockHeader.Size));
        rig.Driver.WriteDescriptor(table, 0, 0x5_0000, VsockHeader.Size, VirtqDescriptor.FlagNext, 1);
        rig.Driver.WriteDescriptor(table, 1, 0x6_0000, 0, VirtqDescriptor.FlagNext, 1); // never fills the 10 bytes

        rig.Driver.Publish(VsockTestRig.Tx, 0);
        rig.Driver.Kick(VsockTestRig.Tx);

        Assert.False(rig.Driver.WaitUsed(VsockTestRig.Tx, 1, 300));
        rig.Driver.Publish(VsockTestRig.Tx, 0);
        rig.Driver.Kick(VsockTestRig.Tx);
        Assert.False(rig.Driver.WaitUsed(VsockTestRig.Tx, 1, 300));
        Assert.Null(rig.Receive(100));
    }

    [Fact]
    public void ATransmitBufferOutsideGuestRamStopsTheQueue()
    {
        using var rig = new VsockTestRig();
        using var listener = rig.ListenOnHostPort(18);
        rig.Start();
        var table = VirtioGuestDriver.DescTable(VsockTestRig.Tx);
        var header = VsockTestRig.Packet(VsockOp.Request, 608, 18);
        header.Length = 16;
        header.Write(rig.Driver.Memory.GetSpan(0x5_0000, VsockHeader.Size));
        rig.Driver.WriteDescriptor(table, 0, 0x5_0000, VsockHeader.Size, VirtqDescriptor.FlagNext, 1);
        rig.Driver.WriteDescriptor(table, 1, VirtioGuestDriver.RamSize - 8, 16, 0, 0);

        rig.Driver.Publish(VsockTestRig.Tx, 0);
        rig.Driver.Kick(VsockTestRig.Tx);

        Assert.False(rig.Driver.WaitUsed(VsockTestRig.Tx, 1, 300));
        Assert.Null(rig.Receive(100));
    }

    private sealed class TempDirectory : IDisposable
    {
        private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-vsock-");

        public string Path => directory.FullName;

        public void Dispose() => directory.Delete(recursive: true);
    }
}
