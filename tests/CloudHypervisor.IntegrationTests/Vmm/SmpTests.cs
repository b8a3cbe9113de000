using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// Application processors on KVM: every boot vCPU is created with an in-kernel LAPIC, but only the BSP
/// runs the boot entry; the others wait until the guest wakes them with INIT-SIPI-SIPI and then start
/// in real mode at the SIPI vector (the smp guest's trampoline at 0x8000), as upstream.
/// </summary>
public sealed class SmpTests
{
    [KvmTheory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task EveryApplicationProcessorComesOnlineThroughInitSipiSipi(int cpus)
    {
        var result = await VmmBinary.BootAsync(GuestImages.Smp, "smp", "--cpus", $"boot={cpus}");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        // An AP that ran the boot entry instead of waiting for its SIPI would start the guest again.
        Assert.Single(lines, l => l == "smp: guest kit smp started");
        Assert.DoesNotContain(lines, l => l.StartsWith("exception:", StringComparison.Ordinal));
        Assert.Contains($"smp: cpus enabled={cpus} online-capable=0", lines);
        var aps = Enumerable.Range(1, cpus - 1).Select(id => $"smp: cpu apic={id} online").ToArray();
        Assert.Equal(aps, lines.Where(l => l.StartsWith("smp: cpu ", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains($"smp: online={cpus} of {cpus}", lines);
        Assert.Equal("smp: done", lines.Last(l => l.StartsWith("smp: ", StringComparison.Ordinal)));
        // Each AP's first instruction (the trampoline's debug-port marker) ran on its own vCPU thread.
        for (var id = 1; id < cpus; id++)
            Assert.Matches(new Regex($@"<vcpu{id}> WARN:.*\[Debug I/O port: Kernel code 0x41\]"), result.StandardError);
    }

    [KvmFact]
    public async Task OnlyTheBootCpusExistWhenMoreAreHotpluggable()
    {
        // The guest also sends INIT-SIPI-SIPI to the two online-capable (not yet plugged) CPUs: none may answer.
        var result = await VmmBinary.BootAsync(GuestImages.Smp, "wake-online-capable", "--cpus", "boot=2,max=4");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains("smp: cpus enabled=2 online-capable=2", lines);
        Assert.Equal(["smp: cpu apic=1 online"], lines.Where(l => l.StartsWith("smp: cpu ", StringComparison.Ordinal)));
        Assert.Contains("smp: online=2 of 2", lines);
        Assert.Contains("smp: online-capable answered=0 of 2", lines);
        Assert.Contains("smp: done", lines);
        Assert.DoesNotMatch(new Regex(@"<vcpu[23]>"), result.StandardError);
    }
}
