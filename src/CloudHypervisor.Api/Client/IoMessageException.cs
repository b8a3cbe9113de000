using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Api.Client;

/// <summary>
/// An I/O error that carries a message instead of an errno, like Rust's io::Error built from a
/// kind and a text ("path must be shorter than SUN_LEN", "stream did not contain valid UTF-8").
/// </summary>
public sealed class IoMessageException(string kind, string message) : ChainedException(message)
{
    /// <summary>The Rust io::ErrorKind name, e.g. InvalidInput.</summary>
    public string Kind { get; } = kind;
}
