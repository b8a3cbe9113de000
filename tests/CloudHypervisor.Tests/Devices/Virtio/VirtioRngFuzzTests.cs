using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>Random ring contents thrown at the rng's queue processing: nothing may escape, used entries stay sane.</summary>
public sealed class VirtioRngFuzzTests
{
    private const ulong RamSize = 0x4_0000;

    [Fact]
    public void RandomQueueContentsNeverEscapeAsExceptions()
    {
        using var memory = GuestMemory.Create([(0UL, RamSize)], new GuestMemoryOptions());
        using var rng = VirtioRng.Open("__rng", "/dev/zero");
        using var notifier = new EventFd(nonBlocking: true);
        var random = new Random(1234);
        var broken = 0;
        var used = 0;
        for (var round = 0; round < 500; round++)
        {
            var size = (ushort)(1 << random.Next(0, 9));
            var queue = new VirtQueue(256) { Size = size, DescriptorTable = 0x1000, AvailRing = 0x3000, UsedRing = 0x4000, Ready = true };
            var features = (ulong)random.Next(4) << 28; // indirect and/or event idx
            Assert.True(queue.Activate(memory, features, "fuzz"));

            // Descriptors: random, but mostly pointing inside RAM with modest lengths so chains get walked.
            var table = memory.GetSpan(0x1000, size * 16);
            random.NextBytes(table);
            for (var i = 0; i < size; i++)
            {
                var d = table.Slice(i * 16, 16);
                if (random.Next(4) != 0)
                {
                    BitConverter.TryWriteBytes(d, (ulong)random.Next(0x8000, (int)RamSize));
                    BitConverter.TryWriteBytes(d[8..], (uint)random.Next(0, 0x2000));
                    BitConverter.TryWriteBytes(d[12..], (ushort)random.Next(0, 8));
                    BitConverter.TryWriteBytes(d[14..], (ushort)random.Next(0, size + 2));
                }
            }

            random.NextBytes(memory.GetSpan(0x3000, 6 + 2 * size));
            for (var i = 0; i < size; i++)
            {
                if (random.Next(8) != 0)
                {
                    BitConverter.TryWriteBytes(memory.GetSpan(0x3004 + (ulong)i * 2, 2), (ushort)random.Next(0, size + 1));
                }
            }
            if (random.Next(2) == 0)
            {
                BitConverter.TryWriteBytes(memory.GetSpan(0x3002, 2), (ushort)random.Next(0, size + 1));
            }

            memory.GetSpan(0x4000, 6 + 8 * size).Clear();
            var binding = new VirtioQueueBinding(0, queue, notifier);

            rng.ProcessQueue(binding);

            var usedIdx = memory.ReadValue<ushort>(0x4002);
            Assert.True(usedIdx <= size, $"round {round}: used idx {usedIdx} beyond queue size {size}");
            for (var i = 0; i < usedIdx; i++)
            {
                Assert.True(memory.ReadValue<uint>(0x4004 + (ulong)i * 8) < size, $"round {round}: used id out of range");
            }

            broken += queue.IsBroken ? 1 : 0;
            used += usedIdx;
        }

        // The generator must exercise both outcomes, or the test proves nothing.
        Assert.InRange(broken, 1, 499);
        Assert.True(used > 0);
    }
}
