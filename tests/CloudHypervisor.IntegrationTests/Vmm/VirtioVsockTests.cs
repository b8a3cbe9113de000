using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CloudHypervisor.IntegrationTests.Api;
using CloudHypervisor.IntegrationTests.Infrastructure;
using CloudHypervisor.IntegrationTests.Remote;

namespace CloudHypervisor.IntegrationTests.Vmm;

/// <summary>
/// virtio-vsock with upstream's hybrid Unix-socket backend, driven by the `vsock` guest on KVM: the guest
/// connecting to host port P reaches a listener on "&lt;socket&gt;_P"; a host client connecting to the
/// socket and sending "CONNECT &lt;port&gt;\n" reaches the guest's listener after "OK &lt;host port&gt;\n".
/// </summary>
public sealed class VirtioVsockTests : IDisposable
{
    private const string FirstHostPort = "1073741824";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("ch-vsock-");

    private string SocketPath => Path.Combine(directory.FullName, "vsock.sock");

    public void Dispose() => directory.Delete(recursive: true);

    [KvmFact]
    public async Task GuestConnectionReachesTheHostListenerAtSocketUnderscorePort()
    {
        using var listener = Listen(SocketPath + "_1234");
        var host = ServeOnceAsync(listener, "hello from the host\n");

        var result = await VmmBinary.BootAsync(GuestImages.Vsock, "connect=1234",
            "--memory", "size=128M", "--vsock", $"cid=5,socket={SocketPath}");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains(lines, l => l.StartsWith("vsock: device 00:02.0 cid=5 ", StringComparison.Ordinal));
        Assert.Contains("vsock: connect port=1234 established", lines);
        Assert.Contains("vsock: connect reply=hello from the host", lines);
        Assert.Contains("vsock: connect port=1234 closed", lines);
        Assert.Equal("vsock: done", lines.Last(l => l.StartsWith("vsock: ", StringComparison.Ordinal)));
        Assert.Equal("hello from the guest\n", await host.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(File.Exists(SocketPath), "the VMM left its vsock socket behind");
    }

    [KvmFact]
    public async Task GuestConnectionToAPortNobodyListensOnIsRefused()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Vsock, "connect=4000",
            "--memory", "size=128M", "--vsock", $"cid=5,socket={SocketPath}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("vsock: connect port=4000 refused", SerialText.Lines(result.StandardOutput));
    }

    [KvmFact]
    public async Task HostConnectIsAcknowledgedWithOkAndEchoedByTheGuest()
    {
        await using var vmm = StartListeningGuest("listen=52 echo=2");
        await WaitForLineAsync(vmm, "vsock: listening port=52");

        using var client = Connect("CONNECT 52\n");
        Assert.Equal($"OK {FirstHostPort}\n", ReadLine(client));
        client.Send("first line\n"u8);
        Assert.Equal("first line\n", ReadLine(client));
        client.Send("second line\n"u8);
        Assert.Equal("second line\n", ReadLine(client));

        var result = await vmm.WaitForExitAsync(Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = SerialText.Lines(result.StandardOutput);
        Assert.Contains($"vsock: accepted port=52 peer-port={FirstHostPort}", lines);
        Assert.Contains("vsock: echo first line", lines);
        Assert.Contains("vsock: listen port=52 echoed=2", lines);
        Assert.True(EndOfStream(client), "the host connection stayed open after the VM ended");
    }

    [KvmFact]
    public async Task BadConnectLinesAndRefusedPortsCloseTheHostClient()
    {
        await using var vmm = StartListeningGuest("listen=52 echo=1");
        await WaitForLineAsync(vmm, "vsock: listening port=52");

        foreach (var bad in new[] { "HELLO 52\n", "connect fifty-two\n", "CONNECT 99999999999\n" })
        {
            using var rejected = Connect(bad);
            Assert.True(EndOfStream(rejected), $"\"{bad.TrimEnd()}\" did not close the connection");
        }

        using (var refused = Connect("CONNECT 53\n"))
        {
            Assert.True(EndOfStream(refused), "a CONNECT to a port the guest refuses did not close the connection");
        }

        await WaitForLineAsync(vmm, "vsock: refused port=53");

        // Bad lines take no host port; the refused connection took the first.
        using var client = Connect("connect 52\n");
        Assert.Equal($"OK {ulong.Parse(FirstHostPort) + 1}\n", ReadLine(client));
        client.Send("still works\n"u8);
        Assert.Equal("still works\n", ReadLine(client));
        Assert.Equal(0, (await vmm.WaitForExitAsync(Timeout)).ExitCode);
    }

    [KvmFact]
    public async Task AnExistingFileAtTheSocketPathFailsVmCreationAsUpstream()
    {
        await File.WriteAllTextAsync(SocketPath, "");

        var result = await VmmBinary.BootAsync(GuestImages.Vsock, "", "--memory", "size=128M", "--vsock", $"cid=5,socket={SocketPath}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Cannot create virtio-vsock backend", result.StandardError);
        Assert.Contains("Error binding to the host-side Unix socket", result.StandardError);
        Assert.Contains("Address already in use (os error 98)", result.StandardError);
        Assert.True(File.Exists(SocketPath), "the VMM removed a file it did not create");
    }

    [KvmFact]
    public async Task IommuOnIsRefused()
    {
        var result = await VmmBinary.BootAsync(GuestImages.Vsock, "", "--memory", "size=128M",
            "--vsock", $"cid=5,socket={SocketPath},iommu=on");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("not supported yet: virtio-iommu", result.StandardError);
        Assert.False(File.Exists(SocketPath));
    }

    [KvmFact]
    public async Task ColdPluggedVsockIsInTheConfigAndServesTheBootedGuest()
    {
        var api = Path.Combine(directory.FullName, "api.sock");
        await using var vmm = RunningProcess.Start(VmmBinary.Path, ["--api-socket", api]);
        using (await ApiSocketClient.ConnectAsync(api, TimeSpan.FromSeconds(10), vmm))
        {
        }

        var config = "{\"payload\":{\"kernel\":\"" + GuestImages.PathOf(GuestImages.Vsock) + "\",\"cmdline\":\"connect=77\"},"
            + "\"memory\":{\"size\":134217728},\"serial\":{\"mode\":\"Tty\"},\"console\":{\"mode\":\"Off\"}}";
        Assert.Equal(0, (await RemoteBinary.RunAsync(["--api-socket", api, "create"], Encoding.UTF8.GetBytes(config))).ExitCode);
        var added = await RemoteBinary.RunAsync(["--api-socket", api, "add-vsock", $"cid=9,socket={SocketPath}"]);
        Assert.True(added.ExitCode == 0, added.ToString());
        var again = await RemoteBinary.RunAsync(["--api-socket", api, "add-vsock", $"cid=10,socket={SocketPath}2"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("Too many virtio-vsock devices", again.Stderr);

        var info = await RemoteBinary.RunAsync(["--api-socket", api, "info"]);
        using (var json = JsonDocument.Parse(info.Stdout))
        {
            var vsock = json.RootElement.GetProperty("config").GetProperty("vsock");
            Assert.Equal(9, vsock.GetProperty("cid").GetInt32());
            Assert.Equal(SocketPath, vsock.GetProperty("socket").GetString());
            Assert.False(vsock.TryGetProperty("id", out _), "an id before boot (upstream names devices when it creates them)");
        }

        Assert.False(File.Exists(SocketPath), "the socket was bound before the VM was booted");
        using var listener = Listen(SocketPath + "_77");
        var booted = new TaskCompletionSource();
        var host = ServeOnceAsync(listener, "cold plugged\n", booted.Task);
        Assert.Equal(0, (await RemoteBinary.RunAsync(["--api-socket", api, "boot"])).ExitCode);

        // The guest waits for the host's reply meanwhile: the running VM's config names the device.
        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("vsock: connect port=77 established"), "the guest to connect", 60);
        Assert.True(File.Exists(SocketPath), "no socket while the VM runs");
        info = await RemoteBinary.RunAsync(["--api-socket", api, "info"]);
        using (var json = JsonDocument.Parse(info.Stdout))
        {
            Assert.Equal("_vsock0", json.RootElement.GetProperty("config").GetProperty("vsock").GetProperty("id").GetString());
        }

        booted.SetResult();

        await Eventually.HoldsAsync(() => vmm.StandardOutput.Contains("vsock: done"), "the guest to finish", 60);
        Assert.Contains("vsock: connect reply=cold plugged", vmm.StandardOutput);
        Assert.Contains("cid=9 ", vmm.StandardOutput);
        Assert.Equal("hello from the guest\n", await host.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, (await vmm.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode); // the guest powered off
        Assert.False(File.Exists(SocketPath), "the VMM left its vsock socket behind");
    }

    private RunningProcess StartListeningGuest(string cmdline) =>
        RunningProcess.Start(VmmBinary.Path, ["--kernel", GuestImages.PathOf(GuestImages.Vsock), "--cmdline", cmdline,
            "--serial", "tty", "--console", "off", "--memory", "size=128M", "--vsock", $"cid=6,socket={SocketPath}"]);

    private static Socket Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        return listener;
    }

    /// <summary>Accepts one connection, reads one line, answers <paramref name="reply"/> (once <paramref name="replyAfter"/> completes); returns the line.</summary>
    private static Task<string> ServeOnceAsync(Socket listener, string reply, Task? replyAfter = null) => Task.Run(async () =>
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var connection = await listener.AcceptAsync(cts.Token);
        connection.ReceiveTimeout = 10_000;
        var line = ReadLine(connection);
        if (replyAfter is not null)
            await replyAfter.WaitAsync(Timeout);
        connection.Send(Encoding.ASCII.GetBytes(reply));
        ReadLine(connection); // until the guest closes
        return line;
    });

    private Socket Connect(string command)
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000 };
        client.Connect(new UnixDomainSocketEndPoint(SocketPath));
        client.Send(Encoding.ASCII.GetBytes(command));
        return client;
    }

    /// <summary>Bytes up to and including a newline, or whatever came before the end of the stream.</summary>
    private static string ReadLine(Socket socket)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (socket.Receive(one) == 1)
        {
            line.Append((char)one[0]);
            if (one[0] == '\n')
                break;
        }

        return line.ToString();
    }

    private static bool EndOfStream(Socket socket)
    {
        try
        {
            return socket.Receive(new byte[64]) == 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task WaitForLineAsync(RunningProcess vmm, string line)
    {
        var clock = Stopwatch.StartNew();
        while (!SerialText.Lines(vmm.StandardOutput).Contains(line))
        {
            if (vmm.HasExited || clock.Elapsed > Timeout)
                Assert.Fail($"No \"{line}\" (exited: {vmm.HasExited})\n--- stdout ---\n{vmm.StandardOutput}\n--- stderr ---\n{vmm.StandardError}");
            await Task.Delay(50);
        }
    }
}
