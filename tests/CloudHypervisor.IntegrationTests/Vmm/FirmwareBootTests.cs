using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>`--firmware` with a PVH ELF (how rust-hypervisor-firmware boots): no command line reaches it.</summary>
public sealed class FirmwareBootTests
{
    [KvmFact]
    public async Task APvhFirmwareBootsWithoutACommandLine()
    {
        var result = await VmmBinary.RunAsync(
            ["--firmware", GuestImages.PathOf(GuestImages.Hello), "--serial", "tty", "--console", "off", "--memory", "size=256M"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains("hello: boot=pvh", lines);
        Assert.Contains("hello: cmdline=", lines);
        Assert.Contains("hello: ram bytes=268042240 mib=255", lines);
    }

    [KvmFact]
    public async Task ACommandLineGivenWithFirmwareIsIgnoredWithUpstreamsWarning()
    {
        var result = await VmmBinary.RunAsync(
            ["--firmware", GuestImages.PathOf(GuestImages.Hello), "--cmdline", "marker=1", "--serial", "tty", "--console", "off"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("hello: cmdline=", SerialText.Lines(result.StandardOutput));
        Assert.Contains("Ignoring cmdline parameter as firmware is provided as the payload", result.StandardError);
    }
}
