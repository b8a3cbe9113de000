using System.Runtime.InteropServices;

namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>
/// A KVM test that needs the host kernel to enforce Landlock. Skipped with the reason when KVM is missing
/// (unless KVM is required, see <see cref="TestEnvironment"/>) or when the kernel offers no Landlock.
/// </summary>
public sealed partial class LandlockKvmFactAttribute : FactAttribute
{
    public LandlockKvmFactAttribute()
    {
        var kvm = TestEnvironment.KvmUnavailableReason();
        if (kvm is not null && !TestEnvironment.KvmRequired)
            Skip = kvm;
        else if (LandlockAbi() < 1)
            Skip = $"the host kernel offers no Landlock (landlock_create_ruleset version query: errno {Marshal.GetLastPInvokeError()})";
    }

    /// <summary>landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) on x86-64.</summary>
    private static long LandlockAbi() => Syscall(444, 0, 0, 1);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3);
}
