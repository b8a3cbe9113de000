namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>A theory that needs /dev/kvm; skipped or failed like <see cref="KvmFactAttribute"/>.</summary>
public sealed class KvmTheoryAttribute : TheoryAttribute
{
    public KvmTheoryAttribute()
    {
        var reason = TestEnvironment.KvmUnavailableReason();
        if (reason is not null && !TestEnvironment.KvmRequired)
            Skip = reason;
    }
}
