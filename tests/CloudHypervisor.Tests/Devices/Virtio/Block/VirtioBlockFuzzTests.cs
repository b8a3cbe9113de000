using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Block;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>Random ring contents thrown at virtio-blk's queue processing: nothing escapes, the image keeps its size.</summary>
public sealed class VirtioBlockFuzzTests
{
    private const ulong RamSize = 0x4_0000;
    private const int ImageSize = 64 * 512;

    [Fact]
    public void RandomQueueContentsNeverEscapeAsExceptions()
    {
        var path = Path.Combine(Path.GetTempPath(), $"blk-fuzz-{Guid.NewGuid():N}.img");
        File.WriteAllBytes(path, new byte[ImageSize]);
        try
        {
            using var memory = GuestMemory.Create([(0UL, RamSize)], new GuestMemoryOptions());
            using var block = new VirtioBlock(
                DiskImage.Open(path, readOnly: false, useDirect: false), new BlockDeviceOptions("_disk0", 1, 256, new byte[20], true, false));
            using var notifier = new EventFd(nonBlocking: true);
            var random = new Random(4321);
            uint[] types = [0, 1, 4, 8, 11, 13, 2, 0xFFFF_FFFF];
            var broken = 0;
            var used = 0;
            for (var round = 0; round < 400; round++)
            {
                // Plausible request headers and discard segments all over the buffer area.
                var area = memory.GetSpan(0x8000, (int)(RamSize - 0x8000));
                for (var offset = 0; offset + 16 <= area.Length; offset += 16)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(area[offset..], types[random.Next(types.Length)]);
                    BinaryPrimitives.WriteUInt32LittleEndian(area[(offset + 4)..], 0);
                    BinaryPrimitives.WriteUInt64LittleEndian(area[(offset + 8)..], (ulong)random.Next(0, 80));
                }

                var size = (ushort)(1 << random.Next(0, 9));
                var queue = new VirtQueue(256) { Size = size, DescriptorTable = 0x1000, AvailRing = 0x3000, UsedRing = 0x4000, Ready = true };
                Assert.True(queue.Activate(memory, (ulong)random.Next(4) << 28, "fuzz"));
                var table = memory.GetSpan(0x1000, size * 16);
                random.NextBytes(table);
                for (var i = 0; i < size; i++)
                {
                    if (random.Next(4) != 0)
                    {
                        var d = table.Slice(i * 16, 16);
                        BinaryPrimitives.WriteUInt64LittleEndian(d, (ulong)random.Next(0x8000, (int)RamSize) & ~0xFUL);
                        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)random.Next(0, 0x1200));
                        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], (ushort)random.Next(0, 8));
                        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)random.Next(0, size + 2));
                    }
                }

                random.NextBytes(memory.GetSpan(0x3000, 6 + 2 * size));
                for (var i = 0; i < size; i++)
                {
                    if (random.Next(8) != 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(memory.GetSpan(0x3004 + (ulong)i * 2, 2), (ushort)random.Next(0, size + 1));
                    }
                }

                if (random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(memory.GetSpan(0x3002, 2), (ushort)random.Next(0, size + 1));
                }

                memory.GetSpan(0x4000, 6 + 8 * size).Clear();

                block.ProcessQueue(new VirtioQueueBinding(0, queue, notifier));

                var usedIdx = memory.ReadValue<ushort>(0x4002);
                Assert.True(usedIdx <= size, $"round {round}: used idx {usedIdx} beyond queue size {size}");
                broken += queue.IsBroken ? 1 : 0;
                used += usedIdx;
            }

            Assert.InRange(broken, 1, 399);
            Assert.True(used > 0);
            Assert.Equal(ImageSize, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
