using CloudHypervisor.IntegrationTests.Infrastructure;
using System.Net.Sockets;
using System.Text;

namespace CloudHypervisor.IntegrationTests.Api;

/// <summary>A plain HTTP client on the VMM's API socket, the way curl or Kata's generated client talk to it.</summary>
internal sealed class ApiSocketClient : IDisposable
{
    private readonly HttpClient http;

    public ApiSocketClient(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost/api/v1/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <param name="owner">The VMM that creates the socket: its early exit, or its output on a timeout, is reported.</param>
    public static async Task<ApiSocketClient> ConnectAsync(string socketPath, TimeSpan timeout, RunningProcess? owner = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(socketPath))
        {
            if (owner is { HasExited: true })
            {
                throw new InvalidOperationException($"the VMM exited before {socketPath} appeared\n{owner.StandardOutput}\n{owner.StandardError}");
            }

            if (DateTime.UtcNow > deadline)
            {
                var state = owner is null ? "" : $" (the VMM, pid {owner.Id}, still runs)\n{owner.StandardOutput}\n{owner.StandardError}";
                throw new TimeoutException($"{socketPath} did not appear within {timeout}{state}");
            }

            await Task.Delay(20);
        }

        return new ApiSocketClient(socketPath);
    }

    public Task<(int Status, string Body)> GetAsync(string action) => SendAsync(HttpMethod.Get, action, null);

    public Task<(int Status, string Body)> PutAsync(string action, string? json = null) => SendAsync(HttpMethod.Put, action, json);

    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string action, string? json)
    {
        using var request = new HttpRequestMessage(method, action);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => http.Dispose();
}
