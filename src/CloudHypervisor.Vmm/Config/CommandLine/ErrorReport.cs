using System.Text;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Config.CommandLine;

/// <summary>The stderr block upstream prints for a fatal error (anyhow-style cause chain).</summary>
public static class ErrorReport
{
    public static string Render(Exception error)
    {
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        var text = new StringBuilder();
        if (messages.Count == 1)
        {
            text.Append("Error: Cloud Hypervisor exited with the following error:\n  ").Append(messages[0]).Append('\n');
            return text.ToString();
        }

        text.Append("Error: Cloud Hypervisor exited with the following chain of errors:\n");
        for (int i = 0; i < messages.Count; i++)
        {
            text.Append("  ").Append(i).Append(": ").Append(messages[i]).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// The whole cause chain on one line ("Error parsing config: Error parsing --cpus: Unable to convert
    /// abc for boot") for the "Fatal error:" log record, where upstream prints its Rust Debug form.
    /// </summary>
    public static string OneLine(Exception error)
    {
        var text = new StringBuilder();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            text.Append(text.Length > 0 ? ": " : string.Empty).Append(e.Message);
        }

        return text.ToString();
    }

    public static bool IsReportable(Exception e) => e is ChainedException;
}
