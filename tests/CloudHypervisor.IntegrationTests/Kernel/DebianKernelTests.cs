using System.Globalization;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Kernel;

/// <summary>
/// Debian's stock kernel (PVH vmlinux) under the published binary: its early boot log must describe the
/// machine the command line configured. On the CI host (nested KVM that emulates every ring-0 instruction)
/// the kernel then hits an instruction KVM cannot emulate; the VMM must log upstream's "VCPU generated error"
/// line naming that exit and the registers, then end as upstream does, promptly rather than hang.
/// </summary>
public sealed partial class DebianKernelTests : IClassFixture<DebianKernelBoot>
{
    // Upstream's layout keeps [EBDA start 0xA0000, HIGH_RAM_START 0x100000) out of the e820 RAM entries
    // (ACPI tables, SMBIOS and the MP table live there); everything else of the 512 MiB is usable RAM.
    private const ulong EbdaStart = 0xA0000;
    private const ulong HighRamStart = 0x100000;
    private const ulong ExpectedUsableBytes = DebianKernelBoot.MemoryBytes - (HighRamStart - EbdaStart);

    private readonly DebianKernelBoot boot;

    public DebianKernelTests(DebianKernelBoot boot) => this.boot = boot;

    [KvmFact]
    public async Task TheKernelSeesTheCommandLineAsGiven()
    {
        var run = await boot.RunAsync();

        Assert.True(run.KernelMessages.Contains($"Command line: {DebianKernelBoot.CommandLine}"), run.ToString());
    }

    [KvmFact]
    public async Task TheKernelFindsSmbiosAndTheMpTable()
    {
        var run = await boot.RunAsync();

        Assert.Contains("SMBIOS 3.2.0 present.", run.KernelMessages);
        Assert.True(run.KernelMessages.Any(m => m.TrimEnd() == "DMI: Cloud Hypervisor cloud-hypervisor, BIOS 0"), run.ToString());
        Assert.DoesNotContain("DMI not present or invalid.", run.KernelMessages);
        Assert.Contains("found SMP MP-table at [mem 0x000f0090-0x000f009f]", run.KernelMessages);
    }

    [KvmFact]
    public async Task TheKernelUsesTheIoapic()
    {
        var run = await boot.RunAsync();

        Assert.DoesNotContain(run.KernelMessages, m => m.Contains("registers return all ones", StringComparison.Ordinal));
        Assert.Contains(run.KernelMessages, m => m.StartsWith("IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23", StringComparison.Ordinal));
    }

    [KvmFact]
    public async Task TheE820MapTotalsTheConfiguredRam()
    {
        var run = await boot.RunAsync();

        var entries = run.KernelMessages.Select(m => E820Line().Match(m)).Where(m => m.Success).ToList();
        Assert.True(entries.Count > 0, $"no BIOS-e820 lines in the serial log\n{run}");
        var usable = entries
            .Where(m => m.Groups["type"].Value == "usable")
            .Select(m => (Start: Hex(m.Groups["start"].Value), End: Hex(m.Groups["end"].Value)))
            .ToList();
        var total = usable.Aggregate(0UL, (sum, r) => sum + (r.End - r.Start + 1));
        Assert.True(total == ExpectedUsableBytes,
            $"usable e820 RAM is {total} bytes, expected {ExpectedUsableBytes} (512 MiB minus [0xa0000, 0x100000))\n{run}");
        Assert.Equal([(0x0UL, 0x9FFFFUL), (HighRamStart, DebianKernelBoot.MemoryBytes - 1)], usable);
        Assert.Contains("BIOS-e820: [mem 0x00000000e8000000-0x00000000f7ffffff] reserved", run.KernelMessages);
    }

    [KvmTheory]
    [InlineData("RSDP")]
    [InlineData("XSDT")]
    [InlineData("FACP")]
    [InlineData("DSDT")]
    [InlineData("APIC")]
    [InlineData("MCFG")]
    public async Task TheKernelFindsEachAcpiTable(string signature)
    {
        var run = await boot.RunAsync();

        var pattern = new Regex($@"^ACPI: {signature} 0x[0-9A-F]{{16}} [0-9A-F]{{6}} \(v\d\d CLOUDH");
        Assert.True(run.KernelMessages.Any(pattern.IsMatch), $"no 'ACPI: {signature}' line from our OEM\n{run}");
        if (signature == "RSDP")
            Assert.Contains(run.KernelMessages, m => m.StartsWith("ACPI: RSDP 0x00000000000A0000 ", StringComparison.Ordinal));
    }

    [KvmFact]
    public async Task TheKernelAllowsTheConfiguredCpus()
    {
        var run = await boot.RunAsync();

        Assert.True(run.KernelMessages.Any(m => m.StartsWith($"smpboot: Allowing {DebianKernelBoot.Cpus} CPUs", StringComparison.Ordinal)),
            run.ToString());
    }

    [KvmFact]
    public async Task AnExitKvmCannotHandleEndsTheVmWithAClearErrorInsteadOfHanging()
    {
        var run = await boot.RunAsync();
        var result = run.Result;

        var gotFurther = run.KernelMessages.Any(m => m.StartsWith("Run /init", StringComparison.Ordinal) || m.StartsWith("Kernel panic", StringComparison.Ordinal));
        Assert.False(result.TimedOut,
            $"the VMM was still running after {DebianKernelBoot.Timeout.TotalSeconds} s and was killed" +
            (gotFurther ? " (the kernel got further than on a host that emulates ring 0; this test expects that host)" : "") + $"\n{run}");
        var fatal = FatalExitLine().Match(result.StandardError);
        Assert.True(fatal.Success, $"no ERROR line naming the vCPU exit and its registers\n{run}");
        if (fatal.Groups["exit"].Value == "KVM internal error")
            Assert.Matches(@"suberror \d+ \([a-z ]+\)", fatal.Value);
        // Upstream logs "VCPU generated error", signals its exit event and the VMM then shuts down normally: exit 0.
        Assert.True(result.ExitCode == 0, $"expected upstream's exit status 0 after a vCPU error\n{run}");

        Assert.True(run.FatalLineAt is not null, run.ToString());
        var lingering = run.ExitedAt - run.FatalLineAt!.Value;
        Assert.True(lingering < TimeSpan.FromSeconds(10), $"the VMM took {lingering.TotalSeconds:F1} s to exit after the fatal exit\n{run}");
    }

    private static ulong Hex(string digits) => ulong.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^BIOS-e820: \[mem 0x(?<start>[0-9a-f]+)-0x(?<end>[0-9a-f]+)\] (?<type>.+)$")]
    private static partial Regex E820Line();

    [GeneratedRegex(@"ERROR:.* VCPU generated error: vCPU \d+ stopped: (?<exit>KVM internal error|KVM entry failure|KVM shutdown \(triple fault\)|unexpected KVM exit reason)[^\n]*, rip 0x[0-9a-f]+; rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+[^\n]* cr0=0x[0-9a-f]+ [^\n]*cr3=0x[0-9a-f]+")]
    private static partial Regex FatalExitLine();
}
