using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>The split ring on its own: chains, indirect tables, notification suppression, and hostile drivers.</summary>
public sealed class VirtQueueTests : IDisposable
{
    private const ulong Desc = 0x1000, Avail = 0x2000, Used = 0x3000, Indirect = 0x4000;
    private const ushort Size = 8;
    private readonly GuestMemory memory = GuestMemory.Create([(0UL, 0x10_0000UL)], new GuestMemoryOptions());
    private readonly VirtQueue queue = new(256) { Size = Size, DescriptorTable = Desc, AvailRing = Avail, UsedRing = Used, Ready = true };
    private ushort availIdx;

    public void Dispose() => memory.Dispose();

    [Fact]
    public void WalksADirectChainAndPublishesTheUsedEntry()
    {
        Activate(0);
        Descriptor(Desc, 0, 0x8000, 100, VirtqDescriptor.FlagNext, 3);
        Descriptor(Desc, 3, 0x9000, 200, VirtqDescriptor.FlagWrite, 0);
        Offer(0);

        Assert.True(queue.TryPop(out var chain));
        Assert.Equal([(0x8000UL, 100u, false), (0x9000UL, 200u, true)], Walk(ref chain));
        queue.AddUsed(chain.HeadIndex, 200);

        Assert.Equal(1, memory.ReadValue<ushort>(Used + 2));
        Assert.Equal(0u, memory.ReadValue<uint>(Used + 4));
        Assert.Equal(200u, memory.ReadValue<uint>(Used + 8));
        Assert.False(queue.TryPop(out _));
    }

    [Fact]
    public void WalksAnIndirectTableWhenNegotiated()
    {
        Activate(VirtioFeatures.RingIndirectDesc);
        Descriptor(Indirect, 0, 0x8000, 10, VirtqDescriptor.FlagNext, 1);
        Descriptor(Indirect, 1, 0x9000, 20, VirtqDescriptor.FlagWrite, 0);
        Descriptor(Desc, 5, Indirect, 32, VirtqDescriptor.FlagIndirect, 0);
        Offer(5);

        Assert.True(queue.TryPop(out var chain));
        Assert.Equal(5, chain.HeadIndex);
        Assert.Equal([(0x8000UL, 10u, false), (0x9000UL, 20u, true)], Walk(ref chain));
        Assert.False(queue.IsBroken);
    }

    [Fact]
    public void IndirectWithoutTheFeatureBreaksTheQueue()
    {
        Activate(0);
        Descriptor(Indirect, 0, 0x8000, 10, 0, 0);
        Descriptor(Desc, 0, Indirect, 16, VirtqDescriptor.FlagIndirect, 0);
        Offer(0);

        Assert.True(queue.TryPop(out var chain));
        Assert.Empty(Walk(ref chain));
        Assert.True(queue.IsBroken);
    }

    [Fact]
    public void NoInterruptFlagSuppressesNotificationsWithoutEventIdx()
    {
        Activate(0);
        Descriptor(Desc, 0, 0x8000, 4, VirtqDescriptor.FlagWrite, 0);
        Offer(0);
        Offer(0);
        Assert.True(queue.TryPop(out var chain));
        queue.AddUsed(chain.HeadIndex, 4);
        Assert.True(queue.NeedsNotification());

        memory.WriteValue<ushort>(Avail, VirtQueue.AvailFlagNoInterrupt);
        Assert.True(queue.TryPop(out chain));
        queue.AddUsed(chain.HeadIndex, 4);
        Assert.False(queue.NeedsNotification());
    }

    [Fact]
    public void EventIdxNotifiesOnlyWhenUsedEventIsCrossed()
    {
        Activate(VirtioFeatures.RingEventIdx);
        Descriptor(Desc, 0, 0x8000, 4, VirtqDescriptor.FlagWrite, 0);
        for (var i = 0; i < 4; i++)
        {
            Offer(0);
        }

        // used_event = 2: the driver wants an interrupt once entry 2 has been used (used idx reaches 3).
        memory.WriteValue<ushort>(Avail + 4 + 2 * Size, 2);
        var notified = new List<bool>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(queue.TryPop(out var chain));
            queue.AddUsed(chain.HeadIndex, 4);
            notified.Add(queue.NeedsNotification());
        }

        Assert.Equal([true, false, true, false], notified);
    }

    [Fact]
    public void EventIdxPublishesAvailEventWhenNotificationsAreReEnabled()
    {
        Activate(VirtioFeatures.RingEventIdx);
        Descriptor(Desc, 0, 0x8000, 4, VirtqDescriptor.FlagWrite, 0);
        Offer(0);
        Offer(0);
        Assert.True(queue.TryPop(out _));
        Assert.True(queue.EnableNotification()); // one more is pending
        Assert.Equal(1, memory.ReadValue<ushort>(Used + 4 + 8 * Size));
        Assert.True(queue.TryPop(out _));
        Assert.False(queue.EnableNotification());
        Assert.Equal(2, memory.ReadValue<ushort>(Used + 4 + 8 * Size));
    }

    [Fact]
    public void WithoutEventIdxTheDeviceTogglesNoNotify()
    {
        Activate(0);
        queue.DisableNotification();
        Assert.Equal(VirtQueue.UsedFlagNoNotify, memory.ReadValue<ushort>(Used));
        Assert.False(queue.EnableNotification());
        Assert.Equal(0, memory.ReadValue<ushort>(Used));
    }

    [Fact]
    public void ADescriptorLoopBreaksTheQueue()
    {
        Activate(0);
        Descriptor(Desc, 0, 0x8000, 4, VirtqDescriptor.FlagNext, 1);
        Descriptor(Desc, 1, 0x8000, 4, VirtqDescriptor.FlagNext, 0);
        Offer(0);

        Assert.True(queue.TryPop(out var chain));
        Assert.Equal(Size, Walk(ref chain).Count);
        AssertBrokenForGood();
    }

    [Fact]
    public void AnOutOfRangeBufferIsNeverHandedOut()
    {
        Activate(0);
        Descriptor(Desc, 0, 0x10_0000 - 4, 8, VirtqDescriptor.FlagWrite, 0);
        Offer(0);

        Assert.True(queue.TryPop(out var chain));
        Assert.Empty(Walk(ref chain));
        AssertBrokenForGood();
    }

    [Theory]
    [InlineData(0x8000_0000u)] // larger than any span
    [InlineData(9 * 16u)] // indirect table longer than the queue
    public void OversizedChainsBreakTheQueue(uint length)
    {
        Activate(VirtioFeatures.RingIndirectDesc);
        var flags = length == 9 * 16u ? VirtqDescriptor.FlagIndirect : VirtqDescriptor.FlagWrite;
        Descriptor(Desc, 0, length == 9 * 16u ? Indirect : 0x1000, length, flags, 0);
        Offer(0);

        Assert.True(queue.TryPop(out var chain));
        Assert.Empty(Walk(ref chain));
        AssertBrokenForGood();
    }

    [Fact]
    public void AnAvailIndexRunningAheadBreaksTheQueue()
    {
        Activate(0);
        memory.WriteValue<ushort>(Avail + 2, Size + 1);

        Assert.False(queue.TryPop(out _));
        AssertBrokenForGood();
    }

    [Fact]
    public void AHeadIndexOutOfRangeBreaksTheQueue()
    {
        Activate(0);
        Offer(Size);

        Assert.False(queue.TryPop(out _));
        AssertBrokenForGood();
    }

    [Fact]
    public void RingsOutsideRamOrMisalignedAreRefusedAtActivation()
    {
        queue.UsedRing = 0x10_0000 - 8;
        Assert.False(queue.Activate(memory, 0, "test"));
        Assert.True(queue.IsBroken);

        queue.Reset();
        Assert.False(queue.IsBroken);
        queue.Size = 8;
        queue.DescriptorTable = Desc + 8;
        queue.AvailRing = Avail;
        queue.UsedRing = Used;
        Assert.False(queue.Activate(memory, 0, "test"));

        queue.Reset();
        queue.Size = 12;
        Assert.Contains("power of two", queue.Validate(memory));
    }

    private void AssertBrokenForGood()
    {
        Assert.True(queue.IsBroken);
        var usedBefore = memory.ReadValue<ushort>(Used + 2);
        Offer(0);
        Assert.False(queue.TryPop(out _));
        queue.AddUsed(0, 1);
        Assert.Equal(usedBefore, memory.ReadValue<ushort>(Used + 2));
        Assert.False(queue.NeedsNotification());
    }

    private void Activate(ulong features) => Assert.True(queue.Activate(memory, features, "test queue"));

    private void Offer(ushort head)
    {
        memory.WriteValue(Avail + 4 + 2UL * (ulong)(availIdx % Size), head);
        availIdx++;
        memory.WriteValue(Avail + 2, availIdx);
    }

    private void Descriptor(ulong table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = memory.GetSpan(table + (ulong)index * 16, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    private static List<(ulong, uint, bool)> Walk(ref DescriptorChain chain)
    {
        var list = new List<(ulong, uint, bool)>();
        while (chain.TryNext(out var d))
        {
            list.Add((d.Address, d.Length, d.IsWriteOnly));
        }

        return list;
    }
}
