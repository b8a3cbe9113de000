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

    public static async Task<ApiSocketClient> ConnectAsync(string socketPath, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(socketPath))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{socketPath} did not appear within {timeout}");
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
