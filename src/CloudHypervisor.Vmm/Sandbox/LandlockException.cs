using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>A Landlock ruleset that could not be built or enforced (upstream's LandlockError texts).</summary>
public sealed class LandlockException : ChainedException
{
    public LandlockException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }

    public static LandlockException InvalidAccess(string detail) => new($"Invalid Landlock access: {detail}");

    public static LandlockException OpenPath(Exception cause) => new($"Error opening path: {cause.Message}", cause);

    /// <summary>A failed ruleset syscall: "Error creating/adding/restricting ruleset: failed to add a rule: …".</summary>
    public static LandlockException Ruleset(string step, OsException cause)
    {
        var detail = new LandlockException($"{step}: {cause.Message}", cause);
        return new LandlockException($"Error creating/adding/restricting ruleset: {detail.Message}", detail);
    }
}
