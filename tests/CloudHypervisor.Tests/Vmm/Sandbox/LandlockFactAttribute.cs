using CloudHypervisor.Vmm.Sandbox;

namespace CloudHypervisor.Tests.Vmm.Sandbox;

/// <summary>A test that confines a thread with Landlock; skipped, with the reason shown, on a kernel without it.</summary>
public sealed class LandlockFactAttribute : FactAttribute
{
    public LandlockFactAttribute()
    {
        if (LandlockSandbox.AbiVersion == 0)
            Skip = "the kernel offers no Landlock (landlock_create_ruleset version query failed): nothing to enforce";
    }
}
