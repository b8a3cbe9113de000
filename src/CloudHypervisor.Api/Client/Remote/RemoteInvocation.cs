namespace CloudHypervisor.Api.Client.Remote;

/// <summary>A parsed ch-remote command line: the API socket (if given), the subcommand and its argument values by id.</summary>
public sealed class RemoteInvocation(string? apiSocket, RemoteCommand command, IReadOnlyDictionary<string, string> values)
{
    public string? ApiSocket { get; } = apiSocket;

    public RemoteCommand Command { get; } = command;

    public IReadOnlyDictionary<string, string> Values { get; } = values;

    /// <summary>The value of argument <paramref name="id"/>, or null when it was not given (and has no default).</summary>
    public string? Value(string id) => Values.TryGetValue(id, out var value) ? value : null;
}
