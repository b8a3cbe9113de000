using System.Net.Sockets;
using System.Text;

namespace CloudHypervisor.IntegrationTests.Infrastructure;

/// <summary>The host end of a guest console on a Unix socket or a pty: reads the guest's first line, answers with one.</summary>
public static class ConsoleClient
{
    /// <summary>Connects to <paramref name="socketPath"/> (retrying until it exists), returns the first line received after sending <paramref name="reply"/>.</summary>
    public static async Task<string> EchoOneLineAsync(string socketPath, string reply, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        while (true)
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel.Token);
                break;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancel.Token);
            }
        }

        await using var stream = new NetworkStream(socket);
        var line = await ReadLineAsync(stream, cancel.Token);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), cancel.Token);
        await Task.Delay(500, CancellationToken.None);
        return line;
    }

    /// <summary>Reads up to the first newline (dropping carriage returns); what came before the end when the stream ends first.</summary>
    public static async Task<string> ReadLineAsync(Stream stream, CancellationToken cancel)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one, cancel) == 1 && one[0] != (byte)'\n')
        {
            if (one[0] != (byte)'\r')
            {
                line.Append((char)one[0]);
            }
        }

        return line.ToString();
    }
}
