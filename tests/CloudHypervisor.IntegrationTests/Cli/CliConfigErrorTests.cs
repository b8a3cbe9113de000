using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Cli;

/// <summary>
/// Malformed and invalid VM options through the published binary: exit 1 within a second, nothing on
/// stdout, upstream's error block, and one log line that names the option and the problem.
/// Upstream opens /dev/kvm before it parses the VM configuration; without KVM these tests check
/// that order instead (see <see cref="CliProcess.AssertConfigError"/>).
/// </summary>
public sealed class CliConfigErrorTests
{
    public static TheoryData<string[], string, string[]> MalformedValues() => new()
    {
        { ["--cpus", "boot=abc"], "Unable to convert abc for boot", ["1: Error parsing --cpus", "2: Unable to convert abc for boot"] },
        { ["--cpus", "boot=1,topology=1:1:1"], "Unable to convert 1:1:1 for topology", ["1: Error parsing --cpus", "2: Unable to convert 1:1:1 for topology"] },
        { ["--memory", "size=1Q"], "Unable to convert 1Q for size", ["1: Error parsing --memory", "2: Unable to convert 1Q for size"] },
        { ["--disk", "path=\"a"], "Invalid syntax: path=\"a", ["1: Error parsing --disk", "2: Invalid syntax: path=\"a"] },
        { ["--net", "mac=12:34:56:78:9a"], "Unable to convert 12:34:56:78:9a for mac", ["1: Error parsing --net", "2: Unable to convert 12:34:56:78:9a for mac"] },
        { ["--vsock", "cid=3"], "socket missing", ["1: Error parsing --vsock: socket missing"] },
        { ["--fs", "socket=/s"], "tag missing", ["1: Error parsing --fs: tag missing"] },
        { ["--console", "bogus"], "Unknown option: bogus", ["1: Error parsing --console", "2: Unknown option: bogus"] },
        { ["--rng", "src=/dev/urandom,foo=1"], "Unknown option: foo", ["1: Error parsing --rng", "2: Unknown option: foo"] },
        { ["--balloon", "size=1G,deflate_on_oom=maybe"], "Unable to convert maybe for deflate_on_oom", ["1: Error parsing --balloon", "2: Unable to convert maybe for deflate_on_oom"] },
    };

    [Theory]
    [MemberData(nameof(MalformedValues))]
    public async Task AMalformedValueIsReportedOnceClearlyAndQuickly(string[] option, string problem, string[] causes)
    {
        var result = await CliProcess.RunAsync(["--kernel", "/nonexistent/vmlinux", .. option]);

        CliProcess.AssertConfigError(result, ["0: Error parsing config", .. causes]);
        if (TestEnvironment.KvmUnavailableReason() is null)
        {
            string line = CliProcess.FatalErrorLine(result.StandardError);
            Assert.Contains($"Error parsing {option[0]}", line);
            Assert.Contains(problem, line);
        }
    }

    [Fact]
    public async Task AnUnknownKeyNamesTheOptionAndTheKey()
    {
        var result = await CliProcess.RunAsync("--kernel", "/nonexistent/vmlinux", "--disk", "path=/tmp/disk.img,foo=1");

        CliProcess.AssertConfigError(result, "0: Error parsing config", "1: Error parsing --disk", "2: Unknown option: foo");
    }

    public static TheoryData<string[], string[]> InvalidConfigurations() => new()
    {
        { ["--cpus", "boot=2,max=1"], ["2: Max CPUs (1) lower than boot CPUs (2)"] },
        { ["--cpus", "boot=4,topology=1:2:0:2"], ["2: No part of the CPU topology can be zero"] },
        { ["--firmware", "/nonexistent/fw"], ["2: Payload configuration is not bootable", "3: Specifying a kernel is not supported when a firmware is provided"] },
        { ["--net", "ip=192.168.1.1"], ["2: IP provided without a mask"] },
        { ["--memory", "shared=on,mergeable=on"], ["2: Invalid to set both 'mergeable' and 'shared' for memory"] },
        { ["--disk", "path=/a,socket=/s"], ["2: Disk path and vhost socket both provided"] },
        { ["--serial", "file="], ["2: Path missing when using file console mode"] },
        { ["--disk", "path=/a,id=x", "--net", "id=x"], ["2: Identifier x is not unique"] },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigurations))]
    public async Task AValidationFailureIsUpstreamsChain(string[] options, string[] causes)
    {
        var result = await CliProcess.RunAsync(["--kernel", "/nonexistent/vmlinux", .. options]);

        CliProcess.AssertConfigError(result, ["0: Error parsing config", "1: Error validating configuration", .. causes]);
    }

    [KvmTheory]
    [InlineData("--tpm", "socket=DISK.tpm", "TPM (--tpm)")]
    public async Task ADeviceThatIsNotBuiltYetFailsVmCreationByName(string option, string value, string feature)
    {
        TestEnvironment.EnsureKvm();
        string disk = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(disk, new byte[1 << 20]);
            string kernel = GuestImages.PathOf(GuestImages.Hello);
            var result = await CliProcess.RunAsync("--kernel", kernel, "--serial", "tty", "--console", "off", option, value.Replace("DISK", disk, StringComparison.Ordinal));

            CliProcess.AssertFailedCleanly(result, 1);
            var chain = CliProcess.Chain(result.StandardError);
            Assert.Equal(["0: Error booting VM", "1: The VM could not boot"], chain.Take(2));
            Assert.Equal($"not supported yet: {feature}", chain[^1][(chain[^1].IndexOf(':') + 2)..]);
        }
        finally
        {
            File.Delete(disk);
        }
    }
}
