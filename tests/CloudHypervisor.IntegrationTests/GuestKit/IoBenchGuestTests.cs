using System.Globalization;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class IoBenchGuestTests
{
    [QemuFact]
    public async Task Ring3_port_writes_are_counted_and_timed()
    {
        var result = await QemuRunner.RunAsync(
            new QemuOptions(GuestImages.PathOf(GuestImages.IoBench)) { CommandLine = "iters=5000" }, TimeSpan.FromSeconds(60));

        GuestAssert.ShutDownCleanly(result);
        GuestAssert.NoException(result);
        GuestAssert.HasLine(result, "iobench: iterations=5000");
        var timing = result.ValueAfter("iobench: tsc-cycles ");
        Assert.True(timing is not null, result.ToString());
        var fields = GuestAssert.Fields(timing!);
        var total = ulong.Parse(fields["total"], CultureInfo.InvariantCulture);
        var perIteration = ulong.Parse(fields["per-iteration"], CultureInfo.InvariantCulture);
        Assert.True(perIteration > 0, result.ToString());
        Assert.Equal(total / 5000, perIteration);
        GuestAssert.EndsWithDone(result, "iobench");
    }
}
