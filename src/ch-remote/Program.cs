using CloudHypervisor.Api.Client.Remote;

namespace CloudHypervisor.Remote;

internal static class Program
{
    private static int Main(string[] args) => RemoteRunner.Run(args, new ProcessRemoteHost());
}
