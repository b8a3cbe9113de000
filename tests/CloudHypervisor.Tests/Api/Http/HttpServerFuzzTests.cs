using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CloudHypervisor.Tests.Api.Http;

/// <summary>
/// Throws 10,000 generated malformed or truncated requests at a live server, four clients at a time,
/// then checks that none reached the handler and that a well-formed ping is still answered.
/// </summary>
public class HttpServerFuzzTests
{
    private const int Total = 10_000;
    private const int Workers = 4;
    private const string ParseErrorHead = "HTTP/1.1 400 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n";

    private enum Kind
    {
        RandomBytes,
        RandomLines,
        BadMethod,
        BadVersion,
        HugeHeader,
        LongRequestLine,
        BadContentLength,
        OversizedBody,
        BadHeader,
        Truncated,
        MidBodyDisconnect,
    }

    [Fact]
    public void MalformedRequestsNeverReachTheHandlerAndTheServerKeepsServing()
    {
        using var fixture = new HttpServerFixture();
        var watch = Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var perKind = new int[Enum.GetValues<Kind>().Length];

        var workers = Enumerable.Range(0, Workers).Select(worker => new Thread(() =>
        {
            var random = new Random(4242 + worker);
            for (var i = 0; i < Total / Workers && failures.IsEmpty; i++)
            {
                var kind = (Kind)random.Next(perKind.Length);
                Interlocked.Increment(ref perKind[(int)kind]);
                var input = Generate(kind, random);
                var response = Exchange(fixture.SocketPath, input, abrupt: kind == Kind.MidBodyDisconnect);
                if (Check(kind, response) is { } problem)
                {
                    failures.Enqueue($"{kind} #{i} ({Printable(input)}): {problem}");
                }
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.Empty(failures);
        Assert.Equal(Total, perKind.Sum());
        Assert.All(perKind, count => Assert.True(count > 500));
        Assert.Equal(0, fixture.Handler.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {watch.Elapsed}");

        using var client = fixture.Connect();
        client.Send(HttpServerFixture.PingRequest);
        Assert.Equal(HttpServerFixture.PingResponse, client.ReadResponse());
        Assert.Equal(1, fixture.Handler.Count);
        fixture.WaitForConnections(1);
    }

    private static string? Check(Kind kind, string? response)
    {
        switch (kind)
        {
            case Kind.MidBodyDisconnect:
                return null;
            case Kind.Truncated:
                return response == string.Empty ? null : $"expected no answer, got {response}";
            case Kind.RandomBytes:
                return response == string.Empty || IsParseError(response) ? null : $"unexpected answer {response}";
            default:
                return IsParseError(response) ? null : $"expected a parse error, got {response ?? "<reset>"}";
        }
    }

    private static bool IsParseError(string? response) =>
        response is not null
        && response.StartsWith(ParseErrorHead, StringComparison.Ordinal)
        && response.EndsWith("\nAll previous unanswered requests will be dropped.\" }", StringComparison.Ordinal);

    /// <summary>Sends the input, half-closes, and reads to the end; null when the exchange was cut short by a reset.</summary>
    private static string? Exchange(string socketPath, byte[] input, bool abrupt)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 20_000, SendTimeout = 20_000 };
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        try
        {
            socket.Send(input);
            if (abrupt)
            {
                return null;
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.Shutdown or SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            // The server may answer and close before an oversized input is fully sent; read what it said.
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            if (received.Length == 0)
            {
                return null;
            }
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static byte[] Generate(Kind kind, Random random)
    {
        switch (kind)
        {
            case Kind.RandomBytes:
                var bytes = new byte[random.Next(1, 2048)];
                random.NextBytes(bytes);
                return bytes;
            case Kind.RandomLines:
                var lines = new StringBuilder();
                for (var i = random.Next(1, 6); i > 0; i--)
                {
                    lines.Append(Word(random, random.Next(0, 300), "abcxyz019 :/-_.;\t\"")).Append("\r\n");
                }

                return Ascii(lines.Append("\r\n").ToString());
            case Kind.BadMethod:
                string[] methods = ["POST", "HEAD", "get", "OPTIONS", "CONNECT", "GETT", "PUT\t", "", "TRACE", Word(random, 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")];
                return Ascii($"{methods[random.Next(methods.Length)]} /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
            case Kind.BadVersion:
                string[] versions = ["HTTP/1.2", "HTTP/2", "http/1.1", "HTTP/1.1 x", "", "HTTP/1.1\0", "HTTP/1", "HTTP/0.9", " HTTP/1.1"];
                return Ascii($"GET /api/v1/vmm.ping {versions[random.Next(versions.Length)]}\r\n\r\n");
            case Kind.HugeHeader:
                return Ascii($"PUT /api/v1/vm.create HTTP/1.1\r\nX-Big: {new string('h', random.Next(1017, 6000))}\r\nContent-Length: 2\r\n\r\n{{}}");
            case Kind.LongRequestLine:
                return Ascii($"GET /{new string('p', random.Next(1011, 4000))} HTTP/1.1\r\n\r\n");
            case Kind.BadContentLength:
                string[] lengths = ["abc", "-1", "4294967296", "1.5", "", "0x10", "1 1", "99999999999999999999", "+", "١٢"];
                return Encoding.UTF8.GetBytes($"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: {lengths[random.Next(lengths.Length)]}\r\n\r\n{{}}");
            case Kind.OversizedBody:
                var size = (uint)random.NextInt64(4194305, uint.MaxValue + 1L);
                return Ascii($"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: {size.ToString(CultureInfo.InvariantCulture)}\r\n\r\n{new string('b', random.Next(0, 8192))}");
            case Kind.BadHeader:
                return random.Next(2) == 0
                    ? Ascii("GET /api/v1/vmm.ping HTTP/1.1\r\nNo colon here\r\n\r\n")
                    : [.. "GET /api/v1/vmm.ping HTTP/1.1\r\nX: "u8, 0xC3, 0x28, .. "\r\n\r\n"u8];
            case Kind.Truncated:
                var whole = random.Next(2) == 0
                    ? Ascii(HttpServerFixture.PingRequest)
                    : Ascii("PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"cpus\":{\"boot\":1}}");
                return whole[..random.Next(1, whole.Length)];
            case Kind.MidBodyDisconnect:
                return Ascii($"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{new string('m', random.Next(0, 999))}");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static string Word(Random random, int length, string alphabet) =>
        string.Create(length, (random, alphabet), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = state.alphabet[state.random.Next(state.alphabet.Length)];
            }
        });

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static string Printable(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input.AsSpan(0, Math.Min(input.Length, 80)));
        return text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }
}
