using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Seccomp;

/// <summary>
/// build/test-bin/cloud-hypervisor: the shipped binary plus the seccomp test trigger (CH_SECCOMP_TEST_VIOLATE).
/// Published by scripts/publish-test.sh, run here when the binary is missing or older than build/bin's.
/// </summary>
internal static class TestFlavourBinary
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public const string TriggerVariable = "CH_SECCOMP_TEST_VIOLATE";

    public static async Task<string> PathAsync()
    {
        var path = Path.Combine(RepoPaths.Root, "build", "test-bin", "cloud-hypervisor");
        var shipped = Path.Combine(RepoPaths.Binaries, "cloud-hypervisor");
        await Gate.WaitAsync();
        try
        {
            if (!File.Exists(path) || (File.Exists(shipped) && File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(shipped)))
            {
                var published = await ProcessRunner.RunAsync(Path.Combine(RepoPaths.Scripts, "publish-test.sh"), [], TimeSpan.FromMinutes(15));
                Assert.True(published.ExitCode == 0, $"scripts/publish-test.sh failed:\n{published}");
            }
        }
        finally
        {
            Gate.Release();
        }

        Assert.True(File.Exists(path), $"{path} is missing after scripts/publish-test.sh");
        return path;
    }

    /// <summary>Runs <paramref name="binary"/> with the trigger variable set to <paramref name="kind"/> (env execs it: same pid).</summary>
    public static RunningProcess Start(string binary, string kind, IEnumerable<string> arguments) =>
        RunningProcess.Start("env", [$"{TriggerVariable}={kind}", binary, .. arguments]);
}
