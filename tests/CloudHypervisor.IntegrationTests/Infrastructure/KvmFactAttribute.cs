namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>
/// A test that needs /dev/kvm. Skipped, with the reason in the runner output, when KVM is
/// missing, unless the run requires KVM (see <see cref="TestEnvironment"/>): then it runs
/// and fails with the reason.
/// </summary>
public sealed class KvmFactAttribute : FactAttribute
{
    public KvmFactAttribute()
    {
        var reason = TestEnvironment.KvmUnavailableReason();
        if (reason is not null && !TestEnvironment.KvmRequired)
            Skip = reason;
    }
}
