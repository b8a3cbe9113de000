namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>A theory that needs /dev/kvm and qemu-system-x86_64; skipped or failed like <see cref="KvmFactAttribute"/>.</summary>
public sealed class QemuTheoryAttribute : TheoryAttribute
{
    public QemuTheoryAttribute()
    {
        var reason = TestEnvironment.QemuUnavailableReason();
        if (reason is not null && !TestEnvironment.KvmRequired)
            Skip = reason;
    }
}
