using CloudHypervisor.Devices.Virtio;
using CloudHypervisor.Tests.Devices.Virtio.Fuzz;

namespace CloudHypervisor.Tests.Devices.Virtio;

/// <summary>Random ring contents thrown at the rng's queue processing: nothing may escape, used entries stay sane.</summary>
public sealed class VirtioRngFuzzTests
{
    [Fact]
    public void RandomQueueContentsNeverEscapeAsExceptions()
    {
        using var rng = VirtioRng.Open("__rng", "/dev/zero");
        DeviceFuzz.Run(rng, seed: 1234, rounds: 500, rng.ProcessQueue);
    }
}
