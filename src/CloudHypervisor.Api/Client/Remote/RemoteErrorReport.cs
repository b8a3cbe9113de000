using System.Text;

namespace CloudHypervisor.Api.Client.Remote;

/// <summary>
/// The stderr block upstream's cli_print_error_chain writes for ch-remote: one numbered line per
/// error in the chain, except that a server answer is expanded into "Server responded with
/// &lt;Status&gt;" followed by the server's own error chain (or an "X:" line when its body is not a
/// JSON array of strings).
/// </summary>
public static class RemoteErrorReport
{
    public static string Render(Exception error)
    {
        var text = new StringBuilder("Error: ch-remote exited with the following ");
        if (error.InnerException is null)
        {
            return text.Append("error:\n  ").Append(error.Message).Append('\n').ToString();
        }

        text.Append("chain of errors:\n");
        var level = 0;
        for (var e = error; e is not null; e = e.InnerException, level++)
        {
            if (e is ApiServerException server)
            {
                AppendServerResponse(text, level, server);
            }
            else
            {
                text.Append("  ").Append(level).Append(": ").Append(e.Message).Append('\n');
            }
        }

        return text.ToString();
    }

    private static void AppendServerResponse(StringBuilder text, int level, ApiServerException server)
    {
        var body = server.Body ?? string.Empty;
        if (!SerdeStringArray.TryParse(body, out var lines, out var problem))
        {
            text.Append("  X: Can't get remote's error messages from JSON response: ").Append(problem).Append(": body='").Append(body).Append("'\n");
            return;
        }

        text.Append("  ").Append(level).Append(": Server responded with ").Append(server.Status).Append('\n');
        foreach (var line in lines)
        {
            text.Append("  ").Append(++level).Append(": ").Append(line).Append('\n');
        }
    }
}
