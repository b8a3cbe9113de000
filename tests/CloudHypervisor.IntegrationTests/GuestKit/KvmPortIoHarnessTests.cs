using System.Text.Json;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

public sealed class KvmPortIoHarnessTests
{
    [KvmFact]
    public async Task Reports_the_mean_port_io_exit_time_as_json()
    {
        TestEnvironment.EnsureKvm();
        var result = await ProcessRunner.RunAsync(GuestImages.PathOf(GuestImages.KvmPortIo), ["2000"], TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(2000, json.RootElement.GetProperty("iterations").GetInt32());
        Assert.True(json.RootElement.GetProperty("mean_exit_ns").GetDouble() > 0, result.ToString());
        Assert.True(json.RootElement.GetProperty("total_ns").GetInt64() > 0, result.ToString());
    }
}
