using System.Buffers.Binary;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Devices.Virtio.Block;
using CloudHypervisor.Tests.Devices.Virtio.Fuzz;

namespace CloudHypervisor.Tests.Devices.Virtio.Block;

/// <summary>Random ring contents thrown at virtio-blk's queue processing: nothing escapes, the image keeps its size.</summary>
public sealed class VirtioBlockFuzzTests
{
    private const int ImageSize = 64 * 512;

    [Fact]
    public void RandomQueueContentsNeverEscapeAsExceptions()
    {
        var path = Path.Combine(Path.GetTempPath(), $"blk-fuzz-{Guid.NewGuid():N}.img");
        File.WriteAllBytes(path, new byte[ImageSize]);
        try
        {
            using var block = new VirtioBlock(
                DiskImage.Open(path, readOnly: false, useDirect: false), new BlockDeviceOptions("_disk0", 1, 256, new byte[20], true, false));
            uint[] types = [0, 1, 4, 8, 11, 13, 2, 0xFFFF_FFFF];

            // Plausible request headers and discard segments all over the buffer area, so chains reach the executor.
            DeviceFuzz.Run(block, seed: 4321, rounds: 400, block.ProcessQueue, maxLength: 0x1200, beforeRound: (fuzzer, random) =>
            {
                var area = fuzzer.Buffers;
                for (var offset = 0; offset + 16 <= area.Length; offset += 16)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(area[offset..], types[random.Next(types.Length)]);
                    BinaryPrimitives.WriteUInt32LittleEndian(area[(offset + 4)..], 0);
                    BinaryPrimitives.WriteUInt64LittleEndian(area[(offset + 8)..], (ulong)random.Next(0, 80));
                }
            });

            Assert.Equal(ImageSize, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
