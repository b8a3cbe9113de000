namespace CloudHypervisor.Sys.Errors;

/// <summary>
/// Base of every error the VMM reports. Like upstream's error enums with `source()`,
/// the cause chain is the InnerException chain, outermost first; the CLI prints it as
/// "Error: Cloud Hypervisor exited with the following chain of errors" and the API returns
/// it as a JSON array of strings.
/// </summary>
public class ChainedException : Exception
{
    public ChainedException(string message)
        : base(message)
    {
    }

    public ChainedException(string message, Exception? cause)
        : base(message, cause)
    {
    }

    /// <summary>The messages from this error down to its root cause.</summary>
    public IReadOnlyList<string> Chain()
    {
        var messages = new List<string>();
        for (Exception? e = this; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return messages;
    }
}
