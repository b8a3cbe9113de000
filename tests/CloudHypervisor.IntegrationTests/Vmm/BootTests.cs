using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>The test-kit guests booted by the static binary on KVM, as a user would run them.</summary>
public class BootTests
{
    [KvmFact]
    public async Task HelloThroughPvhPrintsItsCommandLineAndMemoryMapThenPowersOff()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "console=ttyS0 quiet marker=42", "--memory", "size=128M");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("hello: boot=pvh", lines);
        Assert.Contains("hello: cmdline=console=ttyS0 quiet marker=42", lines);
        Assert.Contains("hello: mem base=0x0 size=0xa0000 type=1", lines);
        Assert.Contains("hello: mem base=0x100000 size=0x7f00000 type=1", lines);
        Assert.Contains("hello: mem base=0xe8000000 size=0x10000000 type=2", lines);
        Assert.Contains("hello: done", lines);
    }

    [KvmFact]
    public async Task HelloThroughTheLinuxBootProtocol()
    {
        var result = await VmmBinary.BootAsync(GuestImages.HelloBzImage, "root=/dev/vda1 rw", "--memory", "size=1G");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("hello: boot=linux", result.StandardOutput);
        Assert.Contains("hello: cmdline=root=/dev/vda1 rw", result.StandardOutput);
        Assert.Contains("hello: mem base=0x100000 size=0x3ff00000 type=1", result.StandardOutput);
    }

    [KvmTheory]
    [InlineData("128M", "hello: ram bytes=133824512 ")]
    [InlineData("1G", "hello: ram bytes=1073348608 ")]
    [InlineData("5G", "hello: mem base=0x100000000 size=0x80000000 type=1")]
    public async Task MemorySizeIsReportedToTheGuest(string size, string expected)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "size-test", "--memory", $"size={size}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(expected, result.StandardOutput);
    }

    [KvmFact]
    public async Task DebugPortWritesAreLoggedWithTheirBootStage()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "debug-port");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex(@"WARN:.* -- \[Debug I/O port: Kernel code 0x41\] \d+\.\d{6} seconds"), result.StandardError);
    }

    [KvmTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task AcpiGuestCountsTheConfiguredCpus(int cpus)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Acpi, "acpi", "--cpus", $"boot={cpus}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"acpi: cpus enabled={cpus} online-capable=0", result.StandardOutput);
        Assert.Contains("acpi: checksums ok", result.StandardOutput);
        Assert.Contains("acpi: mcfg base=0xe8000000", result.StandardOutput);
    }

    [KvmFact]
    public async Task HotpluggableCpusAreListedButNotEnabled()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Acpi, "acpi", "--cpus", "boot=2,max=4");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("acpi: madt lapic=0 x2apic=4 ioapic=1", result.StandardOutput);
        Assert.Contains("acpi: cpus enabled=2 online-capable=2", result.StandardOutput);
    }

    [KvmFact]
    public async Task MissingKernelReportsUpstreamsErrorChain()
    {
        var result = await VmmBinary.RunAsync(["--kernel", "/nonexistent/vmlinux", "--console", "off"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(
            "Error: Cloud Hypervisor exited with the following chain of errors:\n" +
            "  0: Error booting VM\n" +
            "  1: The VM could not boot\n" +
            "  2: Cannot open kernel file\n" +
            "  3: No such file or directory (os error 2)\n",
            result.StandardError);
    }

    [KvmFact]
    public async Task UnsupportedDevicesFailClearlyInsteadOfBeingIgnored()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Hello, "x", "--tpm", "socket=/nonexistent/tpm.sock");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not supported yet: TPM (--tpm)", result.StandardError);
    }
}
