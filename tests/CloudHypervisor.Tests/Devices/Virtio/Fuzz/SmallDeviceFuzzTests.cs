using System.Buffers.Binary;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Devices.Virtio.Console;
using CloudHypervisor.Devices.Virtio.Pmem;
using CloudHypervisor.Devices.Virtio.Watchdog;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Tests.Devices.Virtio.Fuzz;

/// <summary>Random ring contents thrown at virtio-console, virtio-pmem and virtio-watchdog: nothing escapes,
/// used entries stay sane, the devices keep serving.</summary>
public sealed class SmallDeviceFuzzTests
{
    [Fact]
    public void ConsoleSurvivesRandomTransmitAndReceiveQueues()
    {
        var sink = new CountingSink();
        using var console = new VirtioConsole(VirtioConsole.DefaultId, sink);
        var input = new byte[512];

        DeviceFuzz.Run(console, seed: 777, rounds: 400, console.ProcessQueue, beforeRound: (_, random) =>
        {
            random.NextBytes(input);
            console.QueueInput(input.AsSpan(0, random.Next(0, input.Length)));
        });

        Assert.True(sink.Bytes > 0, "no transmitted byte reached the output");
    }

    [Fact]
    public void PmemSurvivesRandomRequests()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pmem-fuzz-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, new byte[2 << 20]);
        try
        {
            using var pmem = new VirtioPmem("_pmem0", SafeFd.Open(path, Libc.ORdWr), 0x1_0000_0000, 2 << 20);

            DeviceFuzz.Run(pmem, seed: 2718, rounds: 300, pmem.ProcessQueue, maxLength: 16, beforeRound: (fuzzer, random) =>
            {
                // Mostly FLUSH (0), sometimes an unknown type.
                var area = fuzzer.Buffers;
                for (var offset = 0; offset + 4 <= area.Length; offset += 16)
                    BinaryPrimitives.WriteUInt32LittleEndian(area[offset..], random.Next(4) == 0 ? (uint)random.Next() : 0u);
            });

            Assert.Equal(2 << 20, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WatchdogSurvivesRandomPets()
    {
        using var watchdog = new VirtioWatchdog(VirtioWatchdog.DefaultId, () => { });

        DeviceFuzz.Run(watchdog, seed: 31337, rounds: 300, watchdog.ProcessQueue, maxLength: 16);
    }

    private sealed class CountingSink : IByteSink
    {
        public long Bytes { get; private set; }

        public void Write(ReadOnlySpan<byte> data) => Bytes += data.Length;
    }
}
