using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class HelloGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [QemuFact]
    public async Task Pvh_boot_reports_protocol_cmdline_and_memory_map_then_shuts_down()
    {
        const string cmdline = "console=ttyS0 guestkit.token=pvh-4711";
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Hello)) { CommandLine = cmdline, MemoryMib = 512 }, Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLine(result, "hello: guest kit hello started");
        GuestAssert.HasLine(result, "hello: boot=pvh");
        GuestAssert.HasLine(result, "hello: entry=pvh32");
        GuestAssert.HasLine(result, "hello: cmdline=" + cmdline);
        GuestAssert.MemoryMapMatches(result, 512);
        GuestAssert.EndsWithDone(result, "hello");
    }

    [QemuFact]
    public async Task Memory_map_follows_the_vm_memory_size()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.Hello)) { MemoryMib = 256 }, Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLine(result, "hello: cmdline=");
        GuestAssert.MemoryMapMatches(result, 256);
    }
}
