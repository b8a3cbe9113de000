namespace CloudHypervisor.Vmm.Control;

/// <summary>Tells the validation errors that the API answers with 409 Conflict from the rest (400).</summary>
internal static class ValidationKinds
{
    public static bool IsDuplicate(string message) =>
        (message.StartsWith("Identifier ", StringComparison.Ordinal) && message.EndsWith(" is not unique", StringComparison.Ordinal))
        || message.StartsWith("Duplicated device path: ", StringComparison.Ordinal);
}
