using System.Text.Json;
using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Contracts.Json;

/// <summary>
/// A request body that does not fit its contract. The message is worded like serde_json's,
/// e.g. "missing field `source_url` at line 1 column 2", and is the root of the error chain
/// (upstream answers <c>["Failed to deserialize JSON","missing field `source_url` at line 1 column 2"]</c>).
/// The System.Text.Json error is kept in <see cref="JsonError"/>, not as the cause.
/// </summary>
public sealed class ContractJsonException(string message, JsonException jsonError) : ChainedException(message)
{
    public JsonException JsonError { get; } = jsonError;
}
