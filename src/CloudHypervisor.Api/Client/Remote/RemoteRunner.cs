using System.Text;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Vmm.Config.CommandLine;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// One ch-remote invocation, as upstream runs it: logger from RUST_LOG, clap parsing, connect to
/// the API socket, build the request (argument errors surface only after connecting), one
/// request/response, then print the body or the error chain. Returns the process exit code.
/// </summary>
public static class RemoteRunner
{
    public static int Run(IReadOnlyList<string> argv, IRemoteHost host)
    {
        var logger = EnvLogger.FromEnvironment(host);
        RemoteInvocation invocation;
        try
        {
            invocation = RemoteCommandLine.Parse(argv);
        }
        catch (CommandLineExit exit)
        {
            var text = Encoding.UTF8.GetBytes(exit.Text);
            if (exit.ToStdout)
            {
                host.WriteStandardOutput(text);
            }
            else
            {
                host.WriteStandardError(text);
            }

            return exit.ExitCode;
        }

        if (invocation.ApiSocket is not { } socketPath)
        {
            logger.Error("Please either provide the api-socket option or dbus-service-name and dbus-object-path options");
            return 1;
        }

        IApiConnection connection;
        try
        {
            connection = host.Connect(socketPath);
        }
        catch (ChainedException e) when (e is OsException or IoMessageException)
        {
            logger.Error($"Error opening HTTP socket: {e.Message}");
            return 1;
        }

        using var client = new ApiClient(connection);
        try
        {
            var request = RemoteRequestBuilder.Build(invocation, host);
            var body = Send(client, request);
            if (body is not null)
            {
                host.WriteStandardOutput([.. body, (byte)'\n']);
            }

            return 0;
        }
        catch (RemotePanicException panic)
        {
            host.WriteStandardError(Encoding.UTF8.GetBytes(panic.Message));
            return 101;
        }
        catch (RemoteCommandException error)
        {
            logger.Error($"Fatal error: {RustDebugFormat.Of(error)}");
            host.WriteStandardError(Encoding.UTF8.GetBytes(RemoteErrorReport.Render(error)));
            return 1;
        }
    }

    /// <summary>The response body to print (null when the answer had no Content-Length).</summary>
    private static byte[]? Send(ApiClient client, RemoteRequest request)
    {
        try
        {
            var response = client.Send(request.Method, request.FullCommand, request.Body, request.Fds);
            return response.IsSuccess ? response.Body : throw new ApiServerException(response.StatusCode, response.BodyText);
        }
        catch (ApiClientException e)
        {
            throw new RemoteCommandException("http client error", "HttpApiClient", e);
        }
    }
}
