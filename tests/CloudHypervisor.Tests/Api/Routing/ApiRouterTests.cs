using System.Text;
using System.Text.Json;
using CloudHypervisor.Api.Http;
using CloudHypervisor.Api.Routing;
using CloudHypervisor.Sys;
using CloudHypervisor.Vmm.Control;
using Xunit;

namespace CloudHypervisor.Tests.Api.Routing;

public sealed class ApiRouterTests : IDisposable
{
    private const string Bootable = """{"payload":{"kernel":"/nonexistent/vmlinux"}}""";
    private readonly VmmController vmm = new(new NoHypervisor(), noShutdown: false);
    private readonly ApiRouter router;

    public ApiRouterTests()
    {
        router = new ApiRouter(vmm);
    }

    public void Dispose() => vmm.Dispose();

    [Fact]
    public void PingReportsTheUpstreamVersionAndThisProcess()
    {
        var response = Send(HttpRequestMethod.Get, "vmm.ping");

        Assert.Equal(200, response.StatusCode);
        using var json = JsonDocument.Parse(response.Body!);
        Assert.Equal("v54.0.0", json.RootElement.GetProperty("build_version").GetString());
        Assert.Equal("54.0.0", json.RootElement.GetProperty("version").GetString());
        Assert.Equal(Environment.ProcessId, json.RootElement.GetProperty("pid").GetInt64());
        Assert.Contains("kvm", json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public void InfoWithoutAVmIs404WithTheErrorChain()
    {
        AssertError(Send(HttpRequestMethod.Get, "vm.info"), 404, "Error from API", "The VM info is not available", "VM is not created");
    }

    [Fact]
    public void CreateStoresTheConfigAndInfoReportsItAsCreated()
    {
        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.create", """{"cpus":{"boot_vcpus":2,"max_vcpus":4},"memory":{"size":1073741824},"payload":{"kernel":"/k"}}""").StatusCode);

        var info = Send(HttpRequestMethod.Get, "vm.info");
        Assert.Equal(200, info.StatusCode);
        using var json = JsonDocument.Parse(info.Body!);
        Assert.Equal("Created", json.RootElement.GetProperty("state").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("config").GetProperty("cpus").GetProperty("boot_vcpus").GetInt32());
        Assert.Equal(1073741824, json.RootElement.GetProperty("memory_actual_size").GetInt64());
        Assert.False(json.RootElement.TryGetProperty("device_tree", out _));
        Assert.Equal("Tty", json.RootElement.GetProperty("config").GetProperty("console").GetProperty("mode").GetString());
    }

    [Fact]
    public void SecondCreateIsRefusedWith500()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        AssertError(Send(HttpRequestMethod.Put, "vm.create", Bootable), 500, "Error from API", "The VM could not be created", "VM is already created");
    }

    [Fact]
    public void BootWithoutConfigIs404()
    {
        AssertError(Send(HttpRequestMethod.Put, "vm.boot"), 404, "Error from API", "The VM could not boot", "VM config is missing");
    }

    [Fact]
    public void CreateAcceptsWhatBootThenRejectsWith400()
    {
        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.create", """{"cpus":{"boot_vcpus":4,"max_vcpus":2},"payload":{"kernel":"/k"}}""").StatusCode);

        var response = Send(HttpRequestMethod.Put, "vm.boot");

        Assert.Equal(400, response.StatusCode);
        Assert.StartsWith("""["Error from API","The VM could not boot","Failed to validate config","Max CPUs """, Text(response));
    }

    [Fact]
    public void BootFailureIs500AndKeepsTheConfig()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);

        var response = Send(HttpRequestMethod.Put, "vm.boot");

        Assert.Equal(500, response.StatusCode);
        Assert.StartsWith("""["Error from API","The VM could not boot","Cannot create a VM""", Text(response));
        Assert.Equal(200, Send(HttpRequestMethod.Get, "vm.info").StatusCode);
    }

    [Theory]
    [InlineData("vm.pause", "The VM could not be paused")]
    [InlineData("vm.resume", "The VM could not resume")]
    [InlineData("vm.shutdown", "The VM could not shutdown")]
    [InlineData("vm.power-button", "Error triggering power button")]
    [InlineData("vm.nmi", "Error triggering NMI")]
    public void ActionsThatNeedARunningVmAre500WithoutOne(string action, string apiError)
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        AssertError(Send(HttpRequestMethod.Put, action), 500, "Error from API", apiError, "VM is not running");
    }

    [Fact]
    public void CountersWithoutARunningVmAre500()
    {
        AssertError(Send(HttpRequestMethod.Get, "vm.counters"), 500, "Error from API", "The VM info is not available", "VM is not running");
    }

    [Fact]
    public void RebootWithoutABootedVmIs404()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        AssertError(Send(HttpRequestMethod.Put, "vm.reboot"), 404, "Error from API", "The VM could not reboot", "VM is not created");
    }

    [Fact]
    public void DeleteDropsTheConfigAndIsANoOpWithoutOne()
    {
        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.delete").StatusCode);
        Send(HttpRequestMethod.Put, "vm.create", Bootable);

        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.delete").StatusCode);
        Assert.Equal(404, Send(HttpRequestMethod.Get, "vm.info").StatusCode);
    }

    [Theory]
    [InlineData(HttpRequestMethod.Put, "vm.info", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Patch, "vmm.ping", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Get, "vm.create", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Delete, "vmm.shutdown", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Put, "vm.counters", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Patch, "vm.counters", "")]
    [InlineData(HttpRequestMethod.Get, "vm.pause", "[\"Bad Request\"]")]
    [InlineData(HttpRequestMethod.Delete, "vm.boot", "")]
    public void WrongMethodsGetUpstreamsBadRequests(HttpRequestMethod method, string path, string body)
    {
        var response = Send(method, path);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal(body, Text(response));
    }

    [Fact]
    public void BodyOnABodylessActionIsABadRequest()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        AssertError(Send(HttpRequestMethod.Put, "vm.pause", "{}"), 400, "Bad Request");
    }

    [Fact]
    public void MissingBodiesAreBadRequests()
    {
        var create = Send(HttpRequestMethod.Put, "vm.create");
        Assert.Equal(400, create.StatusCode);
        Assert.Equal(string.Empty, Text(create));
        AssertError(Send(HttpRequestMethod.Put, "vm.add-disk"), 400, "Bad Request");
    }

    [Theory]
    [InlineData("/api/v1/vm.nosuch")]
    [InlineData("/api/v1/vmm.ping/")]
    [InlineData("/api/v1/vmm.ping?x=1")]
    [InlineData("/api/v2/vmm.ping")]
    [InlineData("/api/v1/vm.coredump")]
    public void UnknownPathsAre404(string path)
    {
        using var request = new HttpRequest(HttpRequestMethod.Get, path, HttpProtocolVersion.Http11, null);
        AssertError(router.Handle(request), 404, "Not Found");
    }

    [Fact]
    public void AbsoluteFormTargetsAreRouted()
    {
        using var request = new HttpRequest(HttpRequestMethod.Get, "http://localhost/api/v1/vmm.ping", HttpProtocolVersion.Http11, null);
        Assert.Equal(200, router.Handle(request).StatusCode);
    }

    [Fact]
    public void MalformedJsonIs400WithTheDeserializerMessage()
    {
        var response = Send(HttpRequestMethod.Put, "vm.restore", "{\"prefault\":true}");

        AssertError(response, 400, "Failed to deserialize JSON", "missing field `source_url` at line 1 column 17");
    }

    [Fact]
    public void ColdAddedDisksLandInTheConfigAndDuplicatesAre409()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);

        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.add-disk", """{"path":"/a.img","id":"disk0"}""").StatusCode);
        AssertError(Send(HttpRequestMethod.Put, "vm.add-disk", """{"path":"/b.img","id":"disk0"}"""), 409,
            "Error from API", "The disk could not be added to the VM", "Failed to validate config", "Identifier disk0 is not unique");

        using var json = JsonDocument.Parse(Send(HttpRequestMethod.Get, "vm.info").Body!);
        var disks = json.RootElement.GetProperty("config").GetProperty("disks");
        Assert.Equal(1, disks.GetArrayLength());
        Assert.Equal("/a.img", disks[0].GetProperty("path").GetString());
    }

    [Fact]
    public void ColdAddWithoutAVmIs404()
    {
        AssertError(Send(HttpRequestMethod.Put, "vm.add-pmem", """{"file":"/p"}"""), 404,
            "Error from API", "The pmem device could not be added to the VM", "VM is not created");
    }

    [Fact]
    public void OnlyOneVsockDevice()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.add-vsock", """{"cid":3,"socket":"/tmp/v.sock"}""").StatusCode);

        AssertError(Send(HttpRequestMethod.Put, "vm.add-vsock", """{"cid":4,"socket":"/tmp/w.sock"}"""), 500,
            "Error from API", "The vsock device could not be added to the VM", "Too many virtio-vsock devices");
    }

    [Fact]
    public void RemoveDeviceFindsConfiguredIdsOnly()
    {
        Send(HttpRequestMethod.Put, "vm.create", """{"payload":{"kernel":"/k"},"disks":[{"path":"/a","id":"d1"}]}""");

        AssertError(Send(HttpRequestMethod.Put, "vm.remove-device", """{"id":"nope"}"""), 404,
            "Error from API", "The device could not be removed from the VM", "No device with id \"nope\" to remove");
        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.remove-device", """{"id":"d1"}""").StatusCode);
        using var json = JsonDocument.Parse(Send(HttpRequestMethod.Get, "vm.info").Body!);
        Assert.Equal(0, json.RootElement.GetProperty("config").GetProperty("disks").GetArrayLength());
    }

    [Fact]
    public void ResizeOfACreatedVmOnlyRewritesTheConfig()
    {
        Send(HttpRequestMethod.Put, "vm.create", """{"payload":{"kernel":"/k"},"cpus":{"boot_vcpus":1,"max_vcpus":4}}""");

        Assert.Equal(204, Send(HttpRequestMethod.Put, "vm.resize", """{"desired_vcpus":3,"desired_ram":1073741824,"desired_balloon":null}""").StatusCode);

        using var json = JsonDocument.Parse(Send(HttpRequestMethod.Get, "vm.info").Body!);
        Assert.Equal(3, json.RootElement.GetProperty("config").GetProperty("cpus").GetProperty("boot_vcpus").GetInt32());
        Assert.Equal(1073741824, json.RootElement.GetProperty("config").GetProperty("memory").GetProperty("size").GetInt64());
    }

    [Fact]
    public void ResizeZoneOfAnUnknownZoneIs500()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        AssertError(Send(HttpRequestMethod.Put, "vm.resize-zone", """{"id":"z","desired_ram":1048576}"""), 500,
            "Error from API", "The memory zone could not be resized", "Failed resizing a memory zone");
    }

    [Fact]
    public void RestoreChecksTheDescriptorCountBeforeAnythingElse()
    {
        AssertError(Send(HttpRequestMethod.Put, "vm.restore", """{"source_url":"file:///s","net_fds":[{"id":"n","num_fds":2}]}"""), 400, "Bad Request");
    }

    [Fact]
    public void RestoreIsNotSupportedYetAndSaysSo()
    {
        AssertError(Send(HttpRequestMethod.Put, "vm.restore", """{"source_url":"file:///s"}"""), 500,
            "Error from API", "The VM could not be restored", "Cannot restore VM", "not supported yet: snapshot restore (from file:///s)");
    }

    [Fact]
    public void AddDeviceTakesAtMostOneDescriptorAndClosesRejectedOnes()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);
        var (a, b) = (OpenDevNull(), OpenDevNull());

        using var request = new HttpRequest(HttpRequestMethod.Put, "/api/v1/vm.add-device", HttpProtocolVersion.Http11,
            Encoding.UTF8.GetBytes("""{"path":"/sys/bus/pci/devices/0000:00:01.0"}"""), [a, b]);
        AssertError(router.Handle(request), 400, "Bad Request");
        Assert.True(a.IsClosed);
        Assert.True(b.IsClosed);
    }

    [Fact]
    public void VmmShutdownAnswers200WithAnEmptyBodyAndEndsTheVmm()
    {
        Send(HttpRequestMethod.Put, "vm.create", Bootable);

        var response = Send(HttpRequestMethod.Put, "vmm.shutdown");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(string.Empty, Text(response));
        Assert.True(vmm.Exited.Wait(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, vmm.Exited.Result.ExitCode);
    }

    private static SafeFd OpenDevNull() => new(CloudHypervisor.Sys.Interop.Libc.Open("/dev/null", 0x80000, 0));

    private HttpResponse Send(HttpRequestMethod method, string action, string? body = null)
    {
        using var request = new HttpRequest(method, "/api/v1/" + action, HttpProtocolVersion.Http11, body is null ? null : Encoding.UTF8.GetBytes(body));
        return router.Handle(request);
    }

    private static string Text(HttpResponse response) => response.Body is null ? string.Empty : Encoding.UTF8.GetString(response.Body);

    private static void AssertError(HttpResponse response, int status, params string[] chain)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(JsonSerializer.Serialize(chain, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), Text(response));
    }
}
