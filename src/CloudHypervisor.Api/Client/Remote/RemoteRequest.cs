namespace CloudHypervisor.Api.Client.Remote;

/// <summary>The request a subcommand sends: method, "vm.&lt;action&gt;"/"vmm.&lt;action&gt;", optional body, descriptors to pass.</summary>
public sealed record RemoteRequest(string Method, string FullCommand, byte[]? Body, int[] Fds)
{
    public string? BodyText => Body is null ? null : System.Text.Encoding.UTF8.GetString(Body);
}
