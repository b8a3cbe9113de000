namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>Well-known folders of the repository, found by walking up to CloudHypervisor.sln.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    /// <summary>Guest kit images built by scripts/build-guests.sh.</summary>
    public static string Guests => Path.Combine(Root, "build", "guests");

    /// <summary>Published cloud-hypervisor / ch-remote binaries.</summary>
    public static string Binaries => Path.Combine(Root, "build", "bin");

    /// <summary>Debian kernel and initramfs fetched by scripts/fetch-kernel.sh.</summary>
    public static string Kernel => Path.Combine(Root, "build", "kernel");

    public static string Scripts => Path.Combine(Root, "scripts");

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CloudHypervisor.sln")))
                    return dir.FullName;
            }
        }
        throw new InvalidOperationException(
            $"Cannot find the repository root (no CloudHypervisor.sln above {AppContext.BaseDirectory}).");
    }
}
