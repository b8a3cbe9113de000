using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using CloudHypervisor.IntegrationTests.Infrastructure;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// Serial input end to end on KVM: host bytes enter the 16550's receive FIFO, its IRQ 4 goes through
/// the userspace IOAPIC as an MSI into the in-kernel LAPIC, and the serial-echo guest answers each
/// line from its interrupt handler ("quit" powers it off). One test per serial backend.
/// </summary>
public sealed class SerialInterruptTests
{
    private const string SerialEcho = "serial-echo";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// `--serial tty` reads stdin only when it is a terminal (as upstream), so the VMM runs under
    /// script(1), which gives it a pseudo-terminal and forwards our pipe into it.
    /// </summary>
    [KvmFact]
    public async Task TtyInputFromAnInteractiveTerminalIsEchoedByTheGuest()
    {
        const string script = "/usr/bin/script";
        Assert.True(File.Exists(script), $"{script} (util-linux) is needed to give the VMM a terminal");
        var command = $"{Quote(VmmBinary.Path)} --kernel {Quote(GuestImages.PathOf(SerialEcho))} --serial tty --console off";
        await using var vmm = RunningProcess.Start(script, ["-qfec", command, "/dev/null"]);

        await WaitForLineAsync(() => vmm.StandardOutput, "serial-echo: ready", vmm);
        await vmm.WriteLineAsync("hello from a terminal");
        await WaitForLineAsync(() => vmm.StandardOutput, "serial-echo: got hello from a terminal", vmm);
        await vmm.WriteLineAsync("quit");

        var result = await vmm.WaitForExitAsync(Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains("serial-echo: ioapic version=0x11 entries=24", lines);
        Assert.Contains("serial-echo: ioapic pin=4 entry=0x0000000000000024", lines);
        Assert.Contains("serial-echo: got quit", lines);
        Assert.Contains("serial-echo: done", lines);
    }

    /// <summary>Upstream reads stdin for `--serial tty` only when it is a terminal; piped bytes never reach the guest.</summary>
    [KvmFact]
    public async Task TtyIgnoresStdinThatIsNotATerminal()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["--kernel", GuestImages.PathOf(SerialEcho), "--serial", "tty", "--console", "off"]);

        await WaitForLineAsync(() => vmm.StandardOutput, "serial-echo: ready", vmm);
        await vmm.WriteLineAsync("quit");
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.False(vmm.HasExited, vmm.StandardOutput + vmm.StandardError);
        Assert.DoesNotContain("serial-echo: got", vmm.StandardOutput);
    }

    [KvmFact]
    public async Task SocketClientInputIsEchoedAndOutputFromBeforeItConnectedIsReplayed()
    {
        var directory = Directory.CreateTempSubdirectory("ch-serial-socket-");
        try
        {
            var socketPath = Path.Combine(directory.FullName, "serial.sock");
            await using var vmm = RunningProcess.Start(VmmBinary.Path,
                ["--kernel", GuestImages.PathOf(SerialEcho), "--serial", $"socket={socketPath}", "--console", "off"]);
            await WaitForAsync(() => File.Exists(socketPath), $"{socketPath} to appear", vmm);
            await Task.Delay(TimeSpan.FromSeconds(1)); // let the guest print its greeting to nobody

            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            var received = new StringBuilder();
            var reader = ReadAllAsync(client, received);

            string Received() { lock (received) return received.ToString(); }
            await WaitForLineAsync(Received, "serial-echo: ready", vmm);
            await client.SendAsync(Encoding.ASCII.GetBytes("over the socket\n"));
            await WaitForLineAsync(Received, "serial-echo: got over the socket", vmm);
            await client.SendAsync(Encoding.ASCII.GetBytes("quit\r"));

            var result = await vmm.WaitForExitAsync(Timeout);
            Assert.True(result.ExitCode == 0, result + "\n--- socket ---\n" + Received());
            await reader;
            var lines = SerialText.Lines(Received());
            Assert.Contains("serial-echo: guest kit serial-echo started", lines);
            Assert.Contains("serial-echo: got quit", lines);
            Assert.DoesNotContain("serial-echo:", result.StandardOutput);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// With the pin level-triggered, the IOAPIC delivers again only after the guest's EOI reaches it
    /// (KVM's IOAPIC-EOI exit), so a second and third line prove the EOI path.
    /// </summary>
    [KvmFact]
    public async Task LevelTriggeredPinFiresAgainAfterEachEndOfInterrupt()
    {
        var directory = Directory.CreateTempSubdirectory("ch-serial-level-");
        try
        {
            var socketPath = Path.Combine(directory.FullName, "serial.sock");
            await using var vmm = RunningProcess.Start(VmmBinary.Path,
                ["--kernel", GuestImages.PathOf(SerialEcho), "--cmdline", "level", "--serial", $"socket={socketPath}", "--console", "off"]);
            await WaitForAsync(() => File.Exists(socketPath), $"{socketPath} to appear", vmm);

            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            var received = new StringBuilder();
            var reader = ReadAllAsync(client, received);
            string Received() { lock (received) return received.ToString(); }

            await WaitForLineAsync(Received, "serial-echo: ready", vmm);
            foreach (var word in new[] { "one", "two", "three" })
            {
                await client.SendAsync(Encoding.ASCII.GetBytes(word + "\n"));
                await WaitForLineAsync(Received, "serial-echo: got " + word, vmm);
            }

            await client.SendAsync(Encoding.ASCII.GetBytes("quit\n"));
            var result = await vmm.WaitForExitAsync(Timeout);
            Assert.True(result.ExitCode == 0, result + "\n--- socket ---\n" + Received());
            await reader;
            Assert.Contains("serial-echo: ioapic pin=4 entry=0x0000000000008024", SerialText.Lines(Received()));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [KvmFact]
    public async Task PtyPathIsLoggedAndTheTerminalCarriesBothDirections()
    {
        await using var vmm = RunningProcess.Start(VmmBinary.Path,
            ["-v", "--kernel", GuestImages.PathOf(SerialEcho), "--serial", "pty", "--console", "off"]);
        var ptyLine = new Regex(@"Serial PTY: (/dev/pts/\d+)");
        await WaitForAsync(() => ptyLine.IsMatch(vmm.StandardError), "the \"Serial PTY: <path>\" log line", vmm);
        var path = ptyLine.Match(vmm.StandardError).Groups[1].Value;

        await using var terminal = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.None);
        var received = new StringBuilder();
        var reader = Task.Run(() => ReadAll(terminal, received));
        string Received() { lock (received) return received.ToString(); }

        await WaitForLineAsync(Received, "serial-echo: ready", vmm);
        await terminal.WriteAsync(Encoding.ASCII.GetBytes("through the pty\n"));
        await terminal.FlushAsync();
        await WaitForLineAsync(Received, "serial-echo: got through the pty", vmm);
        await terminal.WriteAsync(Encoding.ASCII.GetBytes("quit\n"));
        await terminal.FlushAsync();

        // The guest powers off on "quit", so a clean exit proves the line arrived; its echo may be lost when the
        // VMM closes the pty's main side before this reader drains it (a hangup drops unread output).
        var result = await vmm.WaitForExitAsync(Timeout);
        Assert.True(result.ExitCode == 0, result + "\n--- pty ---\n" + Received());
        Assert.DoesNotContain("serial-echo:", result.StandardOutput);
        _ = reader; // ends with an I/O error once the VMM closes the terminal
    }

    private static async Task ReadAllAsync(Socket socket, StringBuilder into)
    {
        var buffer = new byte[4096];
        try
        {
            int count;
            while ((count = await socket.ReceiveAsync(buffer)) > 0)
            {
                lock (into)
                    into.Append(Encoding.ASCII.GetString(buffer, 0, count));
            }
        }
        catch (SocketException)
        {
            // The VMM went away.
        }
    }

    private static void ReadAll(Stream stream, StringBuilder into)
    {
        var buffer = new byte[4096];
        try
        {
            int count;
            while ((count = stream.Read(buffer)) > 0)
            {
                lock (into)
                    into.Append(Encoding.ASCII.GetString(buffer, 0, count));
            }
        }
        catch (IOException)
        {
            // EIO once the VMM closes the main side.
        }
    }

    private static Task WaitForLineAsync(Func<string> text, string line, RunningProcess vmm) =>
        WaitForAsync(() => SerialText.Lines(text()).Contains(line), $"\"{line}\"", vmm, text);

    private static async Task WaitForAsync(Func<bool> condition, string what, RunningProcess vmm, Func<string>? output = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (vmm.HasExited || clock.Elapsed > Timeout)
            {
                Assert.Fail($"No {what} within {Timeout.TotalSeconds} s (exited: {vmm.HasExited})\n{vmm.CommandLine}\n" +
                    $"--- output ---\n{output?.Invoke()}\n--- stdout ---\n{vmm.StandardOutput}\n--- stderr ---\n{vmm.StandardError}");
            }

            await Task.Delay(50);
        }
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''") + "'";
}
