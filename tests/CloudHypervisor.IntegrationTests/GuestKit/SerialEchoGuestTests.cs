using System.Net.Sockets;
using System.Text;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.GuestKit;

/// <summary>
/// The serial-echo guest under QEMU (the reference VMM): its IOAPIC programming and UART receive
/// interrupt path work on a known-good platform, with input arriving through a socket chardev.
/// </summary>
public sealed class SerialEchoGuestTests
{
    private const string SerialEcho = "serial-echo";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [QemuFact]
    public Task EdgeTriggeredPinEchoesEachLineAndPowersOffOnQuit() => EchoAsync("edge", "0x0000000000000024");

    [QemuFact]
    public Task LevelTriggeredPinEchoesEachLineAndPowersOffOnQuit() => EchoAsync("level", "0x0000000000008024");

    private static async Task EchoAsync(string trigger, string entry)
    {
        TestEnvironment.EnsureQemu();
        var directory = Directory.CreateTempSubdirectory("ch-qemu-echo-");
        var serialLog = Path.Combine(directory.FullName, "serial.log");
        var socketPath = Path.Combine(directory.FullName, "serial.sock");
        File.WriteAllText(serialLog, "");

        // COM1 on a listening socket chardev that also logs what the guest writes.
        var arguments = QemuRunner.BuildArguments(new QemuOptions(GuestImages.PathOf(SerialEcho)) { CommandLine = trigger }, serialLog).ToList();
        var serial = arguments.IndexOf("-serial");
        arguments.RemoveRange(serial, 2);
        arguments.AddRange([
            "-chardev", $"socket,id=com1,path={socketPath},server=on,wait=off,logfile={serialLog}",
            "-serial", "chardev:com1",
        ]);
        var process = RunningProcess.Start(TestEnvironment.QemuPath!, arguments);
        process.CloseStandardInput();
        await using var qemu = new QemuInstance(process, directory.FullName, serialLog);

        await qemu.WaitForSerialLineAsync("serial-echo: ready", Timeout);
        using var client = await ConnectAsync(socketPath);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello world\n"));
        await qemu.WaitForSerialLineAsync("serial-echo: got hello world", Timeout);
        await client.SendAsync(Encoding.ASCII.GetBytes("second line\r"));
        await qemu.WaitForSerialLineAsync("serial-echo: got second line", Timeout);
        await client.SendAsync(Encoding.ASCII.GetBytes("quit\n"));

        var result = await qemu.WaitForExitAsync(Timeout);
        Assert.False(result.Process.TimedOut, result.ToString());
        var lines = SerialText.Lines(result.Serial);
        Assert.Contains($"serial-echo: ioapic pin=4 entry={entry}", lines);
        Assert.Contains("serial-echo: got quit", lines);
        Assert.Equal("serial-echo: done", lines[^1]);
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }
}
