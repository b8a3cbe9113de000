using System.Text;
using CloudHypervisor.Api.Client;
using CloudHypervisor.Api.Client.Remote;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Tests.Remote;

/// <summary>An in-memory process for ch-remote runs: captured stdout/stderr, canned files, stdin, environment and server.</summary>
internal sealed class FakeRemoteHost : IRemoteHost
{
    private readonly MemoryStream stdout = new();
    private readonly MemoryStream stderr = new();

    public Dictionary<string, byte[]> Files { get; } = [];

    public Dictionary<string, string> Environment { get; } = [];

    public byte[] StandardInput { get; set; } = [];

    /// <summary>The connection handed out by <see cref="Connect"/>; null makes connect fail with ENOENT.</summary>
    public FakeConnection? Server { get; set; }

    public string? ConnectedPath { get; private set; }

    public DateTime UtcNow { get; set; } = new(2026, 11, 21, 10, 0, 0, DateTimeKind.Utc);

    public bool StandardErrorIsTerminal { get; set; }

    public string Stdout => Encoding.UTF8.GetString(stdout.ToArray());

    public string Stderr => Encoding.UTF8.GetString(stderr.ToArray());

    public void WriteStandardOutput(ReadOnlySpan<byte> data) => stdout.Write(data);

    public void WriteStandardError(ReadOnlySpan<byte> data) => stderr.Write(data);

    public byte[] ReadStandardInput() => StandardInput;

    public byte[] ReadFile(string path) => Files.TryGetValue(path, out var data) ? data : throw new OsException(2);

    public IApiConnection Connect(string socketPath)
    {
        ConnectedPath = socketPath;
        return Server ?? throw new OsException(2);
    }

    public string? GetEnvironmentVariable(string name) => Environment.TryGetValue(name, out var value) ? value : null;

    /// <summary>Runs ch-remote with this host and returns the exit code.</summary>
    public int Run(params string[] argv) => RemoteRunner.Run(argv, this);
}

/// <summary>A server side that records what the client wrote and answers with canned bytes.</summary>
internal sealed class FakeConnection(string response) : IApiConnection
{
    private readonly MemoryStream written = new();
    private readonly byte[] answer = Encoding.UTF8.GetBytes(response);
    private int answered;

    /// <summary>The data of the sendmsg call and the descriptors it carried.</summary>
    public List<(byte[] Data, int[] Fds)> FdMessages { get; } = [];

    /// <summary>When set, writes after the first chunk fail with this errno.</summary>
    public int? WriteErrno { get; set; }

    public bool Disposed { get; private set; }

    /// <summary>Everything the client sent, in order.</summary>
    public string Request => Encoding.UTF8.GetString(written.ToArray());

    public void SendWithFds(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        FdMessages.Add((data.ToArray(), fds.ToArray()));
        written.Write(data);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (WriteErrno is { } errno)
        {
            throw new OsException(errno);
        }

        written.Write(data);
    }

    public int Read(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, answer.Length - answered);
        answer.AsSpan(answered, count).CopyTo(buffer);
        answered += count;
        return count;
    }

    public void Dispose() => Disposed = true;
}
