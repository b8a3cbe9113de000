using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Tests.Devices.Virtio.Fuzz;

/// <summary>Drives random queue contents through one device model's queue processing, round after round.</summary>
internal static class DeviceFuzz
{
    /// <summary>
    /// Each round picks one of the device's queues, randomises its rings and hands it to
    /// <paramref name="process"/> (the device's own drain, as its I/O thread would call it). Nothing may
    /// escape as an exception and the used ring must stay sane; the rounds must both break queues and
    /// complete requests, or the generator proves nothing.
    /// </summary>
    public static void Run(
        IVirtioDevice device, int seed, int rounds, Action<VirtioQueueBinding> process,
        Action<RingFuzzer, Random>? beforeRound = null, int maxLength = 0x2000) =>
        Run(device.QueueMaxSizes, seed, rounds, process, beforeRound, maxLength);

    /// <summary>The same over queues of the given maximum sizes, for queue processors that are not a whole device.</summary>
    public static void Run(
        IReadOnlyList<ushort> queueMaxSizes, int seed, int rounds, Action<VirtioQueueBinding> process,
        Action<RingFuzzer, Random>? beforeRound = null, int maxLength = 0x2000)
    {
        using var memory = RingFuzzer.CreateMemory();
        using var notifier = new EventFd(nonBlocking: true);
        var random = new Random(seed);
        var fuzzer = new RingFuzzer(memory, random);
        var broken = 0;
        var used = 0;
        for (var round = 0; round < rounds; round++)
        {
            beforeRound?.Invoke(fuzzer, random);
            var index = random.Next(queueMaxSizes.Count);
            var queue = fuzzer.NextQueue(queueMaxSizes[index], maxLength);

            process(new VirtioQueueBinding(index, queue, notifier));

            used += fuzzer.CheckUsedRing(queue, round);
            broken += queue.IsBroken ? 1 : 0;
        }

        Assert.InRange(broken, 1, rounds - 1);
        Assert.True(used > 0, "no round completed a request");
    }
}
