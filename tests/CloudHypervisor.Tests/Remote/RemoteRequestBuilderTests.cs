using System.Text;
using CloudHypervisor.Api.Client.Remote;

namespace CloudHypervisor.Tests.Remote;

public class RemoteRequestBuilderTests
{
    private static RemoteRequest Build(FakeRemoteHost host, params string[] argv) =>
        RemoteRequestBuilder.Build(RemoteCommandLine.Parse(["--api-socket", "s", .. argv]), host);

    private static RemoteRequest Build(params string[] argv) => Build(new FakeRemoteHost(), argv);

    private static List<string> Chain(params string[] argv)
    {
        var error = Assert.Throws<RemoteCommandException>(() => Build(argv));
        return [.. error.Chain()];
    }

    [Theory]
    [InlineData("boot", "PUT", "vm.boot")]
    [InlineData("delete", "PUT", "vm.delete")]
    [InlineData("pause", "PUT", "vm.pause")]
    [InlineData("resume", "PUT", "vm.resume")]
    [InlineData("reboot", "PUT", "vm.reboot")]
    [InlineData("shutdown", "PUT", "vm.shutdown")]
    [InlineData("power-button", "PUT", "vm.power-button")]
    [InlineData("nmi", "PUT", "vm.nmi")]
    [InlineData("info", "GET", "vm.info")]
    [InlineData("counters", "GET", "vm.counters")]
    [InlineData("ping", "GET", "vmm.ping")]
    [InlineData("shutdown-vmm", "PUT", "vmm.shutdown")]
    public void BodylessCommands(string command, string method, string target)
    {
        var request = Build(command);
        Assert.Equal((method, target, null, 0), (request.Method, request.FullCommand, request.BodyText, request.Fds.Length));
    }

    [Fact]
    public void AddDiskSendsEveryField()
    {
        var request = Build("add-disk", "path=/a.img");
        Assert.Equal(("PUT", "vm.add-disk"), (request.Method, request.FullCommand));
        Assert.Equal(
            """{"pci_segment":0,"path":"/a.img","readonly":false,"direct":false,"num_queues":1,"queue_size":128,"vhost_user":false,"disable_io_uring":false,"disable_aio":false,"backing_files":false,"sparse":true,"image_type":"Unknown","lock_granularity":"ByteRange"}""",
            request.BodyText);
    }

    [Fact]
    public void AddDiskWithIdAndIommuPutsThePciFieldsFirst() =>
        Assert.StartsWith("""{"id":"disk7","iommu":true,"pci_segment":1,"pci_device_id":5,"path":"/b.img","readonly":true,""", Build("add-disk", "path=/b.img,readonly=on,id=disk7,iommu=on,pci_segment=1,pci_device_id=5").BodyText);

    [Fact]
    public void StringsAreEscapedLikeSerdeJson() =>
        Assert.StartsWith("{\"pci_segment\":0,\"path\":\"/img/é<&>+'\\\\x\\u0001\",", Build("add-disk", "path=/img/é<&>+'\\x\u0001").BodyText);

    [Fact]
    public void AddNetPassesItsTapFdsAndLeavesThemOutOfTheBody()
    {
        var request = Build("add-net", "fd=[3,4],mac=12:34:56:78:9a:bc,num_queues=2");
        Assert.Equal([3, 4], request.Fds);
        Assert.Equal(
            """{"pci_segment":0,"mac":"12:34:56:78:9a:bc","num_queues":2,"queue_size":256,"vhost_user":false,"vhost_mode":"Client","offload_tso":true,"offload_ufo":true,"offload_csum":true}""",
            request.BodyText);
    }

    [Fact]
    public void AddNetWithoutMacGetsARandomLocalOne() =>
        Assert.Matches("\"mac\":\"[0-9a-f]{2}(:[0-9a-f]{2}){5}\"", Build("add-net", "tap=tap0").BodyText);

    [Fact]
    public void AddDevicePassesItsFd()
    {
        var request = Build("add-device", "fd=7,id=vfio0");
        Assert.Equal([7], request.Fds);
        Assert.Equal("""{"id":"vfio0","pci_segment":0,"x_exclude_mmap_bars":[]}""", request.BodyText);
        Assert.Empty(Build("add-device", "path=/sys/bus/pci/devices/0000:01:00.0").Fds);
    }

    [Fact]
    public void AddFsPmemVdpaVsockUserDeviceAndGenericVhostUser()
    {
        Assert.Equal("""{"pci_segment":0,"tag":"myfs","socket":"/tmp/fs.sock","num_queues":1,"queue_size":1024}""", Build("add-fs", "tag=myfs,socket=/tmp/fs.sock").BodyText);
        Assert.Contains("\"file\":\"/tmp/pmem\"", Build("add-pmem", "file=/tmp/pmem,size=1M").BodyText);
        Assert.Contains("\"size\":1048576", Build("add-pmem", "file=/tmp/pmem,size=1M").BodyText);
        Assert.Contains("\"path\":\"/dev/vhost-vdpa-0\"", Build("add-vdpa", "path=/dev/vhost-vdpa-0").BodyText);
        Assert.Contains("\"cid\":3", Build("add-vsock", "cid=3,socket=/tmp/v.sock").BodyText);
        Assert.Contains("\"socket\":\"/tmp/u.sock\"", Build("add-user-device", "socket=/tmp/u.sock").BodyText);
        Assert.Contains("\"device_type\":26", Build("add-generic-vhost-user", "socket=/tmp/g.sock,queue_sizes=[256],device_type=fs").BodyText);
        Assert.Equal("vm.add-generic-vhost-user", Build("add-generic-vhost-user", "socket=/tmp/g.sock,queue_sizes=[256],device_type=26").FullCommand);
    }

    [Theory]
    [InlineData(new[] { "--cpus", "2" }, """{"desired_vcpus":2,"desired_ram":null,"desired_balloon":null}""")]
    [InlineData(new[] { "--memory", "1G" }, """{"desired_vcpus":null,"desired_ram":1073741824,"desired_balloon":null}""")]
    [InlineData(new[] { "--balloon=512M", "--cpus=+3" }, """{"desired_vcpus":3,"desired_ram":null,"desired_balloon":536870912}""")]
    [InlineData(new string[0], """{"desired_vcpus":null,"desired_ram":null,"desired_balloon":null}""")]
    public void ResizeAlwaysSendsTheThreeMembers(string[] options, string body) =>
        Assert.Equal(body, Build(["resize", .. options]).BodyText);

    [Fact]
    public void ResizeDiskAndZone()
    {
        Assert.Equal("""{"id":"disk0","desired_size":2097152}""", Build("resize-disk", "--disk", "disk0", "--size", "2M").BodyText);
        Assert.Equal("""{"id":"mem0","desired_ram":4096}""", Build("resize-zone", "--id", "mem0", "--size", "4K").BodyText);
    }

    [Fact]
    public void UrlAndIdCommands()
    {
        Assert.Equal("""{"id":"_disk0"}""", Build("remove-device", "_disk0").BodyText);
        Assert.Equal("""{"destination_url":"file:///tmp/snap"}""", Build("snapshot", "file:///tmp/snap").BodyText);
        var coredump = Build("coredump", "file:///tmp/core");
        Assert.Equal(("vm.coredump", """{"destination_url":"file:///tmp/core"}"""), (coredump.FullCommand, coredump.BodyText));
    }

    [Fact]
    public void RestorePassesNetThenVfioThenIommufdDescriptors()
    {
        var request = Build("restore", "source_url=file:///tmp/snap,net_fds=[net0@[3,4],net1@[5]],vfio_fds=[vfio0@7],iommufd_fd=9,resume=on");
        Assert.Equal([3, 4, 5, 7, 9], request.Fds);
        Assert.Equal(
            """{"source_url":"file:///tmp/snap","prefault":false,"memory_restore_mode":"Copy","net_fds":[{"id":"net0","num_fds":2,"fds":null},{"id":"net1","num_fds":1,"fds":null}],"vfio_fds":[{"id":"vfio0","fd":null}],"iommufd_fd":null,"resume":true,"zone_updates":[]}""",
            request.BodyText);
    }

    [Fact]
    public void ReceiveMigrationPassesVfioThenIommufdDescriptors()
    {
        var request = Build("receive-migration", "receiver_url=unix:/tmp/mig.sock,vfio_fds=[vfio0@5,vfio1@6],iommufd_fd=8,zone_updates=[mem0@1]");
        Assert.Equal([5, 6, 8], request.Fds);
        Assert.Equal(
            """{"receiver_url":"unix:/tmp/mig.sock","tls_dir":null,"memory_mode":"Precopy","vfio_fds":[{"id":"vfio0","fd":null},{"id":"vfio1","fd":null}],"iommufd_fd":null,"zone_updates":[{"id":"mem0","host_numa_node":1}]}""",
            request.BodyText);
    }

    [Fact]
    public void SendMigrationDefaults()
    {
        Assert.Equal(
            """{"destination_url":"unix:/tmp/mig.sock","local":false,"preserve_source":false,"downtime_ms":300,"timeout_s":3600,"timeout_strategy":"Cancel","connections":1,"tls_dir":null,"memory_mode":"Precopy"}""",
            Build("send-migration", "destination_url=unix:/tmp/mig.sock").BodyText);
        Assert.Equal(
            """{"destination_url":"tcp:10.0.0.2:6000","local":false,"preserve_source":true,"downtime_ms":100,"timeout_s":60,"timeout_strategy":"Ignore","connections":4,"tls_dir":"/etc/tls","memory_mode":"Postcopy"}""",
            Build("send-migration", "destination_url=tcp:10.0.0.2:6000,preserve_source=on,downtime_ms=100,timeout_s=60,timeout_strategy=ignore,connections=4,tls_dir=/etc/tls,memory_mode=postcopy").BodyText);
    }

    [Fact]
    public void CreateSendsTheFileVerbatim()
    {
        var host = new FakeRemoteHost();
        host.Files["/vm.json"] = Encoding.UTF8.GetBytes("{ \"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1} }\n");
        var request = Build(host, "create", "/vm.json");
        Assert.Equal(("PUT", "vm.create"), (request.Method, request.FullCommand));
        Assert.Equal(host.Files["/vm.json"], request.Body);
        host.StandardInput = "{}"u8.ToArray();
        Assert.Equal("{}", Build(host, "create").BodyText);
    }

    [Fact]
    public void CreateReportsUnreadableInput()
    {
        var host = new FakeRemoteHost();
        var missing = Assert.Throws<RemoteCommandException>(() => Build(host, "create", "/missing.json"));
        Assert.Equal(["Error reading from file", "No such file or directory (os error 2)"], missing.Chain());
        host.StandardInput = [0xff, 0xfe];
        var binary = Assert.Throws<RemoteCommandException>(() => Build(host, "create", "-"));
        Assert.Equal(["Error reading from stdin", "stream did not contain valid UTF-8"], binary.Chain());
    }

    [Fact]
    public void ArgumentSyntaxErrors()
    {
        Assert.Equal(["Error parsing disk syntax", "Error parsing --disk", "Unknown option: foo"], Chain("add-disk", "foo=bar"));
        Assert.Equal(["Error parsing network syntax", "Error parsing --net", "Unable to convert x for num_queues"], Chain("add-net", "num_queues=x"));
        Assert.Equal(["Error parsing filesystem syntax", "Error parsing --fs: tag missing"], Chain("add-fs", "socket=/s"));
        Assert.Equal(["Error parsing CPU count", "invalid digit found in string"], Chain("resize", "--cpus", "two"));
        Assert.Equal(["Error parsing CPU count", "number too large to fit in target type"], Chain("resize", "--cpus", "4294967296"));
        Assert.Equal(["Error parsing memory size", "Invalid value: 1Q"], Chain("resize", "--memory", "1Q"));
        Assert.Equal(["Error parsing balloon size", "Invalid value: "], Chain("resize", "--balloon="));
        Assert.Equal(["Invalid disk size", "Invalid value: 1T"], Chain("resize-disk", "--disk", "d", "--size", "1T"));
        Assert.Equal(["Error parsing memory size", "Invalid value: x"], Chain("resize-zone", "--id", "z", "--size", "xM"));
        Assert.Equal(["Error parsing restore syntax", "Error parsing --restore: source_url missing"], Chain("restore", "prefault=on"));
        Assert.Equal(
            ["Error parsing receive migration configuration", "Failed to parse vm receive migration configuration", "Invalid syntax: receiver_url is required"],
            Chain("receive-migration", "memory_mode=postcopy"));
        Assert.Equal(
            ["Error parsing send migration configuration", "Failed to parse vm receive migration configuration", "Invalid value: downtime_ms must be non-zero"],
            Chain("send-migration", "destination_url=unix:/s,downtime_ms=0"));
        Assert.Equal(
            ["Error parsing send migration configuration", "Failed to parse vm receive migration configuration", "Unable to convert sometimes for timeout_strategy"],
            Chain("send-migration", "destination_url=unix:/s,timeout_strategy=sometimes"));
    }

    [Theory]
    [InlineData("add-disk")]
    [InlineData("add-net")]
    [InlineData("remove-device")]
    [InlineData("coredump")]
    [InlineData("receive-migration")]
    [InlineData("send-migration")]
    [InlineData("resize-disk", "--size", "1M")]
    [InlineData("resize-zone", "--id", "z")]
    public void MissingUnwrappedArgumentsPanic(params string[] argv)
    {
        var panic = Assert.Throws<RemotePanicException>(() => Build(argv));
        Assert.StartsWith($"thread 'main' panicked: ch-remote {argv[0]}: missing argument ", panic.Message);
    }
}
