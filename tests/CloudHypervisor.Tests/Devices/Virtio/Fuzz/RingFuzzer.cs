using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;

namespace CloudHypervisor.Tests.Devices.Virtio.Fuzz;

/// <summary>
/// A hostile driver for fuzz tests: each round lays out one split queue with random but plausible contents
/// (descriptors mostly inside RAM with modest lengths, random flags and next links, random avail entries
/// and index, indirect and event-idx features at random), so device models walk real chains and hit every
/// malformed shape: loops, out-of-range addresses and indices, oversized and empty chains.
/// </summary>
internal sealed class RingFuzzer(GuestMemory memory, Random random)
{
    public const ulong RamSize = 0x4_0000;
    public const ulong DescriptorTable = 0x1000;
    public const ulong AvailRing = 0x3000;
    public const ulong UsedRing = 0x4000;

    /// <summary>Where the random descriptors point: buffers, request headers, whatever the device reads.</summary>
    public const ulong BufferArea = 0x8000;

    public static GuestMemory CreateMemory() => GuestMemory.Create([(0UL, RamSize)], new GuestMemoryOptions());

    /// <summary>The buffer area, for tests that seed plausible request headers into it.</summary>
    public Span<byte> Buffers => memory.GetSpan(BufferArea, (int)(RamSize - BufferArea));

    /// <summary>A ready queue of random size (1..256) over freshly randomised rings, with a zeroed used ring.</summary>
    public VirtQueue NextQueue(ushort maxSize = 256, int maxLength = 0x2000)
    {
        var size = (ushort)Math.Min(maxSize, 1 << random.Next(0, 9));
        var queue = new VirtQueue(maxSize) { Size = size, DescriptorTable = DescriptorTable, AvailRing = AvailRing, UsedRing = UsedRing, Ready = true };
        var features = (ulong)random.Next(4) << 28; // VIRTIO_RING_F_INDIRECT_DESC and/or VIRTIO_RING_F_EVENT_IDX
        Assert.True(queue.Activate(memory, features, "fuzz"));

        var table = memory.GetSpan(DescriptorTable, size * 16);
        random.NextBytes(table);
        for (var i = 0; i < size; i++)
        {
            if (random.Next(4) != 0)
            {
                var d = table.Slice(i * 16, 16);
                BinaryPrimitives.WriteUInt64LittleEndian(d, (ulong)random.Next((int)BufferArea, (int)RamSize) & ~0xFUL);
                BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)random.Next(0, maxLength));
                BinaryPrimitives.WriteUInt16LittleEndian(d[12..], (ushort)random.Next(0, 8));
                BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)random.Next(0, size + 2));
            }
        }

        random.NextBytes(memory.GetSpan(AvailRing, 6 + 2 * size));
        for (var i = 0; i < size; i++)
        {
            if (random.Next(8) != 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(memory.GetSpan(AvailRing + 4 + (ulong)i * 2, 2), (ushort)random.Next(0, size + 1));
            }
        }

        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(memory.GetSpan(AvailRing + 2, 2), (ushort)random.Next(0, size + 1));
        }

        memory.GetSpan(UsedRing, 6 + 8 * size).Clear();
        return queue;
    }

    /// <summary>Checks what the device published: no more entries than the queue holds, each naming a
    /// descriptor of the table. Returns how many it used.</summary>
    public int CheckUsedRing(VirtQueue queue, int round)
    {
        var usedIdx = memory.ReadValue<ushort>(UsedRing + 2);
        Assert.True(usedIdx <= queue.Size, $"round {round}: used idx {usedIdx} beyond queue size {queue.Size}");
        for (var i = 0; i < usedIdx; i++)
        {
            Assert.True(memory.ReadValue<uint>(UsedRing + 4 + (ulong)i * 8) < queue.Size, $"round {round}: used id out of range");
        }

        return usedIdx;
    }
}
