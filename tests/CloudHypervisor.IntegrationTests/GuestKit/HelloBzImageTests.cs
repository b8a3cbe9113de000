using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class HelloBzImageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [QemuFact]
    public async Task Real_mode_setup_path_boots_with_the_linux_protocol()
    {
        const string cmdline = "console=ttyS0 guestkit.token=bz-0815";
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.HelloBzImage)) { CommandLine = cmdline }, Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLine(result, "hello: boot=linux");
        GuestAssert.HasLine(result, "hello: entry=linux32");
        GuestAssert.HasLine(result, "hello: linux-setup=realmode");
        GuestAssert.HasLine(result, "hello: cmdline=" + cmdline);
        GuestAssert.MemoryMapMatches(result, 512);
        GuestAssert.EndsWithDone(result, "hello");
    }

    [QemuFact]
    public async Task Sixty_four_bit_entry_works_from_long_mode()
    {
        // guestkit.entry64 makes the 32-bit entry re-enter through startup_32 + 0x200 in long mode.
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.HelloBzImage)) { CommandLine = "guestkit.entry64" }, Timeout);

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.HasLine(result, "hello: boot=linux");
        GuestAssert.HasLine(result, "hello: entry=linux64");
        GuestAssert.HasLine(result, "hello: cmdline=guestkit.entry64");
        GuestAssert.MemoryMapMatches(result, 512);
        GuestAssert.EndsWithDone(result, "hello");
    }
}
