using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>Runs the published static `cloud-hypervisor` binary.</summary>
internal static class VmmBinary
{
    public static string Path
    {
        get
        {
            var path = System.IO.Path.Combine(RepoPaths.Binaries, "cloud-hypervisor");
            Assert.True(File.Exists(path), $"{path} is missing: run scripts/publish.sh");
            return path;
        }
    }

    public static Task<ProcessResult> RunAsync(IEnumerable<string> arguments, int timeoutSeconds = 60) =>
        ProcessRunner.RunAsync(Path, arguments, TimeSpan.FromSeconds(timeoutSeconds));

    /// <summary>Boots a guest-kit image with its output on the serial port and no virtio console.</summary>
    public static Task<ProcessResult> BootAsync(string guest, string cmdline, params string[] extra) =>
        RunAsync(["--kernel", GuestImages.PathOf(guest), "--cmdline", cmdline, "--serial", "tty", "--console", "off", .. extra]);
}
