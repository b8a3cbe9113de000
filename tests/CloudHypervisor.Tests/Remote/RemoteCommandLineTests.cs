using CloudHypervisor.Api.Client.Remote;
using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Tests.Remote;

public class RemoteCommandLineTests
{
    private const string TopHelp =
        """
        Remotely control a cloud-hypervisor VMM.

        Usage: ch-remote [OPTIONS] <COMMAND>

        Commands:
          add-device              Add VFIO device
          add-disk                Add block device
          add-fs                  Add virtio-fs backed fs device
          add-generic-vhost-user  Add generic vhost-user device
          add-net                 Add network device
          add-pmem                Add persistent memory device
          add-user-device         Add userspace device
          add-vdpa                Add vDPA device
          add-vsock               Add vsock device
          boot                    Boot a created VM
          coredump                Create a coredump from VM
          counters                Counters from the VM
          create                  Create VM from a JSON configuration
          delete                  Delete a VM
          info                    Info on the VM
          nmi                     Trigger NMI
          pause                   Pause the VM
          ping                    Ping the VMM to check for API server availability
          power-button            Trigger a power button in the VM
          reboot                  Reboot the VM
          receive-migration       Receive a VM migration
          remove-device           Remove VFIO and PCI device
          resize                  Resize the VM
          resize-disk             Resize an attached disk
          resize-zone             Resize a memory zone
          restore                 Restore VM from a snapshot
          resume                  Resume the VM
          send-migration          Initiate a VM migration
          shutdown                Shutdown the VM
          shutdown-vmm            Shutdown the VMM
          snapshot                Create a snapshot from VM
          help                    Print this message or the help of the given subcommand(s)

        Options:
              --api-socket <api-socket>  HTTP API socket path (UNIX domain socket).
          -h, --help                     Print help
          -V, --version                  Print version

        """;

    private static CommandLineExit Exit(params string[] argv) => Assert.Throws<CommandLineExit>(() => RemoteCommandLine.Parse(argv));

    [Fact]
    public void NoArgumentsPrintTheHelpOnStderrWithExitCode2()
    {
        var exit = Exit();
        Assert.Equal((TopHelp, 2, false), (exit.Text, exit.ExitCode, exit.ToStdout));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    [InlineData("--api-socket", "s", "--help")]
    public void HelpGoesToStdoutWithExitCode0(params string[] argv)
    {
        var exit = Exit(argv);
        Assert.Equal((TopHelp, 0, true), (exit.Text, exit.ExitCode, exit.ToStdout));
    }

    [Theory]
    [InlineData("-V")]
    [InlineData("--version")]
    [InlineData("-Vh")]
    public void VersionIsTheBuildVersion(params string[] argv)
    {
        var exit = Exit(argv);
        Assert.Equal(("ch-remote v54.0.0\n", 0, true), (exit.Text, exit.ExitCode, exit.ToStdout));
    }

    [Fact]
    public void MissingSubcommandListsThemAll()
    {
        var exit = Exit("--api-socket", "s");
        Assert.Equal(2, exit.ExitCode);
        Assert.False(exit.ToStdout);
        Assert.Equal(
            "error: 'ch-remote' requires a subcommand but one was not provided\n" +
            "  [subcommands: add-device, add-disk, add-fs, add-generic-vhost-user, add-net, add-pmem, add-user-device, add-vdpa, add-vsock, " +
            "boot, coredump, counters, create, delete, info, nmi, pause, ping, power-button, reboot, receive-migration, remove-device, resize, " +
            "resize-disk, resize-zone, restore, resume, send-migration, shutdown, shutdown-vmm, snapshot, help]\n\n" +
            "Usage: ch-remote [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n",
            exit.Text);
    }

    [Fact]
    public void UnknownSubcommandSuggestsTheClosestOne()
    {
        var exit = Exit("--api-socket", "s", "infp");
        Assert.Equal(
            "error: unrecognized subcommand 'infp'\n\n  tip: a similar subcommand exists: 'info'\n\n" +
            "Usage: ch-remote [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n",
            exit.Text);
        Assert.Equal(2, exit.ExitCode);
    }

    [Fact]
    public void SeveralLookAlikesAreListedLeastSimilarFirst() =>
        Assert.Contains("\n  tip: some similar subcommands exist: 'resume', 'pause'\n", Exit("pasue").Text);

    [Fact]
    public void UnknownSubcommandWithoutLookAlikeHasNoTip() =>
        Assert.Equal(
            "error: unrecognized subcommand 'xyzzy'\n\nUsage: ch-remote [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n",
            Exit("xyzzy").Text);

    [Fact]
    public void ApiSocketTwiceIsAnError() =>
        Assert.Equal(
            "error: the argument '--api-socket <api-socket>' cannot be used multiple times\n\n" +
            "Usage: ch-remote [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n",
            Exit("--api-socket", "a", "--api-socket=b", "ping").Text);

    [Theory]
    [InlineData("--api-socket")]
    [InlineData("--api-socket", "--version")]
    public void ApiSocketNeedsAValue(params string[] argv) =>
        Assert.Equal(
            "error: a value is required for '--api-socket <api-socket>' but none was supplied\n\nFor more information, try '--help'.\n",
            Exit(argv).Text);

    [Fact]
    public void UnknownLongOptionSuggestsTheSimilarOne() =>
        Assert.Equal(
            "error: unexpected argument '--api-sock' found\n\n  tip: a similar argument exists: '--api-socket'\n\n" +
            "Usage: ch-remote --api-socket <api-socket> <COMMAND>\n\nFor more information, try '--help'.\n",
            Exit("--api-sock", "s", "ping").Text);

    [Fact]
    public void UnknownSubcommandOptionSuggestsTheSimilarOne() =>
        Assert.Equal(
            "error: unexpected argument '--memroy' found\n\n  tip: a similar argument exists: '--memory'\n\n" +
            "Usage: ch-remote resize --cpus <cpus> --memory <memory>\n\nFor more information, try '--help'.\n",
            Exit("resize", "--cpus", "2", "--memroy", "1G").Text);

    [Fact]
    public void ApiSocketAfterTheSubcommandIsUnexpected() =>
        Assert.Equal(
            "error: unexpected argument '--api-socket' found\n\nUsage: ch-remote info\n\nFor more information, try '--help'.\n",
            Exit("info", "--api-socket", "s").Text);

    [Fact]
    public void ASecondPositionalIsUnexpected() =>
        Assert.Equal(
            "error: unexpected argument 'b' found\n\nUsage: ch-remote add-disk [disk_config]\n\nFor more information, try '--help'.\n",
            Exit("--api-socket", "s", "add-disk", "a", "b").Text);

    [Fact]
    public void UnknownFlagOfACommandWithAPositionalSuggestsDoubleDash() =>
        Assert.Equal(
            "error: unexpected argument '--foo' found\n\n  tip: to pass '--foo' as a value, use '-- --foo'\n\n" +
            "Usage: ch-remote add-disk [disk_config]\n\nFor more information, try '--help'.\n",
            Exit("add-disk", "--foo").Text);

    [Fact]
    public void RestoreRequiresItsConfig()
    {
        var exit = Exit("--api-socket", "s", "restore");
        Assert.Equal(
            "error: the following required arguments were not provided:\n  <restore_config>\n\n" +
            "Usage: ch-remote restore <restore_config>\n\nFor more information, try '--help'.\n",
            exit.Text);
        Assert.Equal(2, exit.ExitCode);
    }

    [Fact]
    public void ResizeOptionGivenTwiceIsAnError() =>
        Assert.Equal(
            "error: the argument '--cpus <cpus>' cannot be used multiple times\n\nUsage: ch-remote resize [OPTIONS]\n\nFor more information, try '--help'.\n",
            Exit("resize", "--cpus", "1", "--cpus=2").Text);

    [Fact]
    public void ResizeOptionNeedsAValue() =>
        Assert.Equal(
            "error: a value is required for '--cpus <cpus>' but none was supplied\n\nFor more information, try '--help'.\n",
            Exit("resize", "--cpus", "-1").Text);

    [Fact]
    public void ParsesSocketSubcommandAndOptions()
    {
        var invocation = RemoteCommandLine.Parse(["--api-socket=/run/ch.sock", "resize", "--cpus", "4", "--memory=1G"]);
        Assert.Equal("/run/ch.sock", invocation.ApiSocket);
        Assert.Equal("resize", invocation.Command.Name);
        Assert.Equal("4", invocation.Value("cpus"));
        Assert.Equal("1G", invocation.Value("memory"));
        Assert.Null(invocation.Value("balloon"));
    }

    [Fact]
    public void DoubleDashLetsAPositionalStartWithADash()
    {
        var invocation = RemoteCommandLine.Parse(["--api-socket", "s", "remove-device", "--", "-odd-id"]);
        Assert.Equal("-odd-id", invocation.Value("id"));
    }

    [Fact]
    public void CreateReadsStdinByDefault() =>
        Assert.Equal("-", RemoteCommandLine.Parse(["--api-socket", "s", "create"]).Value("path"));

    [Fact]
    public void MissingOptionalPositionalIsNotAClapError() =>
        Assert.Null(RemoteCommandLine.Parse(["--api-socket", "s", "add-disk"]).Value("disk_config"));

    [Fact]
    public void NoSocketIsNotAClapError() =>
        Assert.Null(RemoteCommandLine.Parse(["ping"]).ApiSocket);

    [Theory]
    [InlineData("resize", "--help")]
    [InlineData("resize", "-h")]
    public void SubcommandHelpListsItsOptions(params string[] argv)
    {
        var exit = Exit(argv);
        Assert.Equal(
            "Resize the VM\n\nUsage: ch-remote resize [OPTIONS]\n\nOptions:\n" +
            "      --balloon <balloon>  New balloon size in bytes (supports K/M/G suffix)\n" +
            "      --cpus <cpus>        New vCPUs count\n" +
            "      --memory <memory>    New memory size in bytes (supports K/M/G suffix)\n" +
            "  -h, --help               Print help\n",
            exit.Text);
        Assert.Equal((0, true), (exit.ExitCode, exit.ToStdout));
    }

    [Fact]
    public void HelpSubcommandShowsASubcommandsHelp()
    {
        var exit = Exit("help", "create");
        Assert.Equal(
            "Create VM from a JSON configuration\n\nUsage: ch-remote create [path]\n\nArguments:\n  [path]  [default: -]\n\nOptions:\n  -h, --help  Print help\n",
            exit.Text);
        Assert.Equal(exit.Text, Exit("create", "--help").Text);
    }

    [Fact]
    public void PositionalHelpIsTheOptionSyntax()
    {
        var text = Exit("add-vsock", "--help").Text;
        Assert.Equal(
            "Add vsock device\n\nUsage: ch-remote add-vsock [vsock_config]\n\nArguments:\n" +
            "  [vsock_config]  Virtio VSOCK parameters \"cid=<context_id>,socket=<socket_path>,iommu=on|off,id=<device_id>,pci_segment=<segment_id>,pci_device_id=<pci_slot>\"\n\n" +
            "Options:\n  -h, --help  Print help\n",
            text);
    }

    [Fact]
    public void MultiLineHelpIsIndentedUnderTheHelpColumn()
    {
        var text = Exit("restore", "--help").Text;
        Assert.StartsWith("Restore VM from a snapshot\n\nUsage: ch-remote restore <restore_config>\n\nArguments:\n  <restore_config>  Restore parameters \"source_url=", text);
        Assert.Contains(" \n                    `source_url` should be a valid URL", text);
    }
}
