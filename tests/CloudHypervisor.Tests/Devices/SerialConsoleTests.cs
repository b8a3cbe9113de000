using System.Net.Sockets;
using System.Text;
using CloudHypervisor.Vmm.Devices;

namespace CloudHypervisor.Tests.Devices;

/// <summary>The serial backends' host side, without a guest.</summary>
public class SerialConsoleTests
{
    [Fact]
    public void ALoneNewlineIsSentAsCarriageReturnOtherInputUnchanged()
    {
        Assert.Equal("\r"u8.ToArray(), SerialConsole.TranslateInput("\n"u8).ToArray());
        Assert.Equal("ab\n"u8.ToArray(), SerialConsole.TranslateInput("ab\n"u8).ToArray());
    }

    [Fact]
    public async Task SocketReplaysOutputFromBeforeTheClientAndDeliversItsInput()
    {
        var directory = Directory.CreateTempSubdirectory("ch-socket-console-");
        var path = Path.Combine(directory.FullName, "serial.sock");
        try
        {
            var input = new List<byte>();
            using (var console = SocketConsole.Listen(path))
            using (var watcher = new FdWatcher("test-serial"))
            {
                console.Start(watcher, bytes => { lock (input) input.AddRange(bytes.ToArray()); });
                console.Write("before\n"u8);

                using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
                Assert.Equal("before\n", await ReceiveAsync(client, 7));

                await client.SendAsync("typed"u8.ToArray());
                await WaitUntilAsync(() => { lock (input) return input.Count == 5; });
                Assert.Equal("typed", Encoding.ASCII.GetString([.. input]));

                console.Write("after\n"u8);
                Assert.Equal("after\n", await ReceiveAsync(client, 6));
            }

            Assert.False(File.Exists(path), "the socket path is removed so the next boot can bind it");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var done = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (done < length)
        {
            done += await socket.ReceiveAsync(buffer.AsMemory(done), timeout.Token);
        }

        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
