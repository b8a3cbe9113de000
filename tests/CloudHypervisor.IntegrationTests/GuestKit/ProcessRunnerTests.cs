using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>The harness itself: exit codes, captured output, timeouts.</summary>
public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task Captures_output_and_exit_code()
    {
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], TimeSpan.FromSeconds(10));

        Assert.False(result.TimedOut);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.StandardOutput);
        Assert.Equal("err\n", result.StandardError);
    }

    [Fact]
    public async Task Kills_a_process_that_outlives_its_timeout()
    {
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "echo started; exec sleep 30"], TimeSpan.FromMilliseconds(500));

        Assert.True(result.TimedOut);
        Assert.Equal(-1, result.ExitCode);
        Assert.Equal("started\n", result.StandardOutput);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(10), result.ToString());
    }

    [Fact]
    public void Qemu_command_line_has_the_kit_defaults()
    {
        var args = QemuRunner.BuildArguments(
            new QemuOptions("/img") { CommandLine = "a=b c", Machine = QemuMachine.Q35, Cpus = 2 }, "/tmp/s.log");

        Assert.Equal(
            ["-M", "q35,accel=kvm", "-cpu", "host,-arch-capabilities", "-m", "512", "-smp", "2", "-nodefaults",
             "-no-user-config", "-nographic", "-serial", "file:/tmp/s.log", "-monitor", "none", "-kernel", "/img",
             "-append", "a=b c", "-no-reboot"],
            args);
    }

    [Fact]
    public void Missing_guest_image_names_the_build_script()
    {
        var e = Assert.Throws<FileNotFoundException>(() => GuestImages.PathOf("no-such-guest"));
        Assert.Contains("run scripts/build-guests.sh", e.Message);
    }
}
