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

    /// <summary>A Rust-Debug-like one-liner of the chain for the "Fatal error:" log record.</summary>
    public static string DebugSummary(Exception error)
    {
        var text = new StringBuilder();
        int depth = 0;
        for (Exception? e = error; e is not null; e = e.InnerException, depth++)
        {
            text.Append(e.InnerException is null ? RustDebug.Quote(e.Message) : e.GetType().Name.Replace("Exception", string.Empty, StringComparison.Ordinal) + "(");
        }

        text.Append(')', Math.Max(0, depth - 1));
        return text.ToString();
    }

    public static bool IsReportable(Exception e) => e is ChainedException;
}
