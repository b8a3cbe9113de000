namespace CloudHypervisor.Api.Client.Remote;

/// <summary>What ch-remote needs from its process, so a run can be driven by tests.</summary>
public interface IRemoteHost
{
    void WriteStandardOutput(ReadOnlySpan<byte> data);

    void WriteStandardError(ReadOnlySpan<byte> data);

    /// <summary>All of standard input (throws <see cref="Sys.Errors.OsException"/>).</summary>
    byte[] ReadStandardInput();

    /// <summary>All of a file (throws <see cref="Sys.Errors.OsException"/>).</summary>
    byte[] ReadFile(string path);

    /// <summary>Connects to the API socket (throws <see cref="Sys.Errors.OsException"/> or <see cref="IoMessageException"/>).</summary>
    IApiConnection Connect(string socketPath);

    string? GetEnvironmentVariable(string name);

    /// <summary>Whether standard error is a terminal (env_logger colours its records there).</summary>
    bool StandardErrorIsTerminal { get; }

    DateTime UtcNow { get; }
}
