using System.Net.Sockets;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Vsock;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Tests.Devices.Virtio.Vsock;

/// <summary>
/// Random transmit and receive rings thrown at the vsock queue processing (the muxer behind it is real, with a
/// host listener on port 7 so some requests open connections): nothing may escape, used entries stay sane.
/// </summary>
public sealed class VirtioVsockFuzzTests
{
    private const ulong RamSize = 0x8_0000;
    private const ulong TxTable = 0x1000, TxAvail = 0x3000, TxUsed = 0x4000;
    private const ulong RxTable = 0x6000, RxAvail = 0x8000, RxUsed = 0x9000;

    [Fact]
    public void RandomQueueContentsNeverEscapeAsExceptions()
    {
        var directory = Directory.CreateTempSubdirectory("ch-vsock-fuzz-");
        try
        {
            var path = Path.Combine(directory.FullName, "v.sock");
            using var memory = GuestMemory.Create([(0UL, RamSize)], new GuestMemoryOptions());
            using var muxer = VsockMuxer.Bind(3, path);
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path + "_7"));
            listener.Listen(1024);
            using var notifier = new EventFd(nonBlocking: true);
            var random = new Random(4242);
            var broken = 0;
            var used = 0;
            var delivered = 0;
            for (var round = 0; round < 1500; round++)
            {
                var size = (ushort)(1 << random.Next(0, 9));
                var features = (ulong)random.Next(4) << 28;
                var tx = new VirtQueue(256) { Size = size, DescriptorTable = TxTable, AvailRing = TxAvail, UsedRing = TxUsed, Ready = true };
                var rx = new VirtQueue(256) { Size = size, DescriptorTable = RxTable, AvailRing = RxAvail, UsedRing = RxUsed, Ready = true };
                Assert.True(tx.Activate(memory, features, "fuzz-tx"));
                Assert.True(rx.Activate(memory, features, "fuzz-rx"));
                FillRing(memory, random, TxTable, TxAvail, TxUsed, size, packets: true);
                FillRing(memory, random, RxTable, RxAvail, RxUsed, size, packets: false);
                var txBinding = new VirtioQueueBinding(VirtioVsock.TxQueue, tx, notifier);
                var rxBinding = new VirtioQueueBinding(VirtioVsock.RxQueue, rx, notifier);
                var queues = new VsockQueues("_vsock0", muxer, null, [rxBinding, txBinding]);

                queues.ProcessQueue(txBinding);
                queues.ProcessQueue(rxBinding);
                while (listener.Poll(0, SelectMode.SelectRead))
                {
                    using var accepted = listener.Accept();
                    accepted.Send([1, 2, 3]);
                }

                queues.ProcessQueue(rxBinding);

                foreach (var (usedRing, queue) in new[] { (TxUsed, tx), (RxUsed, rx) })
                {
                    var usedIdx = memory.ReadValue<ushort>(usedRing + 2);
                    Assert.True(usedIdx <= size, $"round {round}: used idx {usedIdx} beyond queue size {size}");
                    for (var i = 0; i < usedIdx; i++)
                    {
                        Assert.True(memory.ReadValue<uint>(usedRing + 4 + (ulong)i * 8) < size, $"round {round}: used id out of range");
                    }

                    broken += queue.IsBroken ? 1 : 0;
                    used += usedIdx;
                }

                for (var i = 0; i < memory.ReadValue<ushort>(RxUsed + 2); i++)
                {
                    var length = memory.ReadValue<uint>(RxUsed + 8 + (ulong)i * 8);
                    Assert.True(length == 0 || length >= VsockHeader.Size, $"round {round}: receive length {length}");
                    delivered += length >= VsockHeader.Size ? 1 : 0;
                }
            }

            // The generator must exercise broken rings, used chains and delivered packets, or the test proves nothing.
            Assert.InRange(broken, 1, 2999);
            Assert.True(used > 0);
            Assert.True(delivered > 0);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Random descriptors (mostly in RAM, modest lengths), random avail entries; transmit buffers mostly hold plausible headers.</summary>
    private static void FillRing(GuestMemory memory, Random random, ulong table, ulong avail, ulong usedRing, ushort size, bool packets)
    {
        var descriptors = memory.GetSpan(table, size * 16);
        random.NextBytes(descriptors);
        for (var i = 0; i < size; i++)
        {
            var d = descriptors.Slice(i * 16, 16);
            if (random.Next(4) == 0)
            {
                continue;
            }

            var address = (ulong)random.Next(0x1_0000, (int)RamSize - 0x2000);
            var flags = (ushort)random.Next(0, 8);
            if (random.Next(3) != 0)
            {
                flags = (ushort)((flags & VirtqDescriptor.FlagNext) | (packets ? 0 : VirtqDescriptor.FlagWrite));
            }

            BitConverter.TryWriteBytes(d, address);
            BitConverter.TryWriteBytes(d[8..], (uint)random.Next(0, 0x1800));
            BitConverter.TryWriteBytes(d[12..], flags);
            BitConverter.TryWriteBytes(d[14..], (ushort)random.Next(0, size + 2));
            if (packets && random.Next(2) == 0)
            {
                var header = new VsockHeader
                {
                    SrcCid = 3,
                    DstCid = random.Next(8) == 0 ? (ulong)random.Next() : VsockHeader.HostCid,
                    SrcPort = (uint)random.Next(1000, 1010),
                    DstPort = random.Next(2) == 0 ? 7u : (uint)random.Next(0, 12),
                    Length = random.Next(3) == 0 ? (uint)random.Next() : (uint)random.Next(0, 0x1000),
                    Type = random.Next(8) == 0 ? (ushort)2 : VsockHeader.TypeStream,
                    Op = (VsockOp)random.Next(0, 9),
                    Flags = (uint)random.Next(0, 4),
                    BufAlloc = (uint)random.Next(),
                    FwdCnt = (uint)random.Next(),
                };
                header.Write(memory.GetSpan(address, VsockHeader.Size));
            }
        }

        random.NextBytes(memory.GetSpan(avail, 6 + 2 * size));
        for (var i = 0; i < size; i++)
        {
            if (random.Next(8) != 0)
            {
                BitConverter.TryWriteBytes(memory.GetSpan(avail + 4 + (ulong)i * 2, 2), (ushort)random.Next(0, size + 1));
            }
        }

        BitConverter.TryWriteBytes(memory.GetSpan(avail, 2), (ushort)0);
        if (random.Next(4) != 0)
        {
            BitConverter.TryWriteBytes(memory.GetSpan(avail + 2, 2), (ushort)random.Next(0, size + 1));
        }

        memory.GetSpan(usedRing, 6 + 8 * size).Clear();
    }
}
