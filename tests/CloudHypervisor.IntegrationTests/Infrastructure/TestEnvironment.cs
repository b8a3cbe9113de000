namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>
/// What the machine offers the integration tests. When the run declares KVM required
/// (environment variable CH_TEST_REQUIRE_KVM=1, as CI does), missing pieces make tests
/// fail with the reason; otherwise those tests are skipped with the reason shown.
/// </summary>
public static class TestEnvironment
{
    public const string RequireKvmVariable = "CH_TEST_REQUIRE_KVM";
    public const string KvmDevice = "/dev/kvm";
    public const string QemuBinary = "qemu-system-x86_64";

    public static bool KvmRequired =>
        Environment.GetEnvironmentVariable(RequireKvmVariable) is "1" or "true" or "yes";

    /// <summary>Why KVM cannot be used, or null when it can.</summary>
    public static string? KvmUnavailableReason()
    {
        if (!OperatingSystem.IsLinux())
            return "KVM tests need Linux";
        if (!File.Exists(KvmDevice))
            return $"{KvmDevice} is absent (no KVM on this machine)";
        try
        {
            using var _ = File.Open(KvmDevice, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"{KvmDevice} cannot be opened read-write: {e.Message}";
        }
        return null;
    }

    /// <summary>Why QEMU with KVM cannot be used, or null when it can.</summary>
    public static string? QemuUnavailableReason() =>
        KvmUnavailableReason() ?? (QemuPath is null ? $"{QemuBinary} is not on PATH (apt-get install qemu-system-x86)" : null);

    public static string? QemuPath => LazyQemuPath.Value;

    private static readonly Lazy<string?> LazyQemuPath = new(() => FindOnPath(QemuBinary));

    /// <summary>Throws with the reason when KVM is unavailable (for tests that were not skipped).</summary>
    public static void EnsureKvm() => Ensure(KvmUnavailableReason());

    public static void EnsureQemu() => Ensure(QemuUnavailableReason());

    private static void Ensure(string? reason)
    {
        if (reason is not null)
            throw new InvalidOperationException(
                $"{reason}; this run requires KVM ({RequireKvmVariable}={Environment.GetEnvironmentVariable(RequireKvmVariable)})");
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
